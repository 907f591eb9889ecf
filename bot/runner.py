"""The bot process: python-telegram-bot's Application fed from the inbox, by polling or webhook.

`python -m bot` and the local desk (tests, `make ask`) both run the bot through this class.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
import uvicorn
from sqlalchemy import text
from telegram import Update

from bot.app import build_application, build_services
from bot.dispatcher import Dispatcher
from bot.inbox import Inbox
from bot.ingress import poll, webhook_app
from bot.services import Services
from helpdesk.settings import Settings

log = structlog.get_logger(__name__)


class BotRunner:
    def __init__(self, settings: Settings, services: Services | None = None, *,
                 poll_timeout_s: int = 10) -> None:
        self.settings = settings
        self.services = services or build_services(settings)
        self.application = build_application(settings, self.services)
        self.inbox = Inbox(self.services.store, lease_ms=int(settings.inbox_lease_s * 1000),
                           max_attempts=settings.inbox_max_attempts)
        self.dispatcher = Dispatcher(self.application, self.inbox, self.services,
                                     concurrency=settings.bot_concurrency)
        self.poll_timeout_s = poll_timeout_s
        self._tasks: list[asyncio.Task[None]] = []
        self._server: uvicorn.Server | None = None

    async def start(self) -> None:
        application = self.application
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))
        if self.settings.webhook_url:
            await self._start_webhook()
        else:
            log.info("bot_polling", emulated=self.settings.emulated)
            self._tasks.append(asyncio.create_task(
                poll(application.bot, self.inbox, self.dispatcher.wake,
                     timeout_s=self.poll_timeout_s), name="polling"))

    async def _start_webhook(self) -> None:
        settings = self.settings
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        app = webhook_app(self.inbox, self.dispatcher.wake, secret, self.readiness)
        self._server = uvicorn.Server(uvicorn.Config(
            app, host=settings.webhook_listen, port=settings.webhook_port, log_level="warning",
            lifespan="off"))
        self._tasks.append(asyncio.create_task(self._server.serve(), name="webhook"))
        while not self._server.started:
            if self._tasks[-1].done():
                self._tasks[-1].result()  # the server could not start: say why
            await asyncio.sleep(0.02)
        # Only once the server listens: Telegram starts delivering as soon as this returns.
        await self.application.bot.set_webhook(settings.webhook_url, secret_token=secret,
                                               allowed_updates=Update.ALL_TYPES)
        log.info("bot_webhook", url=settings.webhook_url)

    async def readiness(self) -> dict[str, bool]:
        checks = {"database": False, "rasa": False}
        with contextlib.suppress(Exception):
            async with self.services.store.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = True
        with contextlib.suppress(Exception):
            checks["rasa"] = await self.services.rasa.ready()
        return checks

    async def stop(self, drain_s: float = 10.0) -> None:
        """Stops taking updates, lets those in hand finish, then shuts the Application down."""
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks:
            if task.get_name() != "dispatcher":
                task.cancel()
        await self.dispatcher.drain(drain_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        application = self.application
        await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()
