"""Where updates come in: long polling, or Telegram's webhook (with /healthz, /readyz, /metrics).

Either way an update is stored in the inbox before Telegram is told it arrived.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from telegram import Bot, Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.inbox import Inbox

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


async def store(inbox: Inbox, payload: dict[str, Any], wake: Callable[[], None]) -> bool:
    new = await inbox.accept(payload)
    metrics.RECEIVED.labels("new" if new else "redelivered").inc()
    if new:
        wake()
    return new


async def poll(bot: Bot, inbox: Inbox, wake: Callable[[], None], *, timeout_s: int = 10,
               ) -> None:
    """getUpdates in a loop; the next call's offset acknowledges only what is stored.

    Raw JSON, not python-telegram-bot's Update objects: an update this library version cannot
    parse would otherwise fail the whole batch and stall polling; stored raw, it fails alone in
    the dispatcher and the rest go on.
    """
    await bot.delete_webhook()
    offset = 0
    while True:
        try:
            with warnings.catch_warnings():
                # Raw getUpdates is deliberate; the library's nudge to Bot.get_updates is noise.
                warnings.simplefilter("ignore", PTBUserWarning)
                updates = await bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": offset, "timeout": timeout_s,
                                              "allowed_updates": list(Update.ALL_TYPES)},
                    read_timeout=timeout_s + 10)
        except RetryAfter as error:
            delay = error.retry_after
            await asyncio.sleep(delay.total_seconds() if isinstance(delay, dt.timedelta)
                                else float(delay))
            continue
        except (NetworkError, TimedOut) as error:
            log.warning("polling_failed", error=str(error))
            await asyncio.sleep(1)
            continue
        for update in updates:
            await store(inbox, update, wake)
            offset = int(update["update_id"]) + 1


def webhook_app(inbox: Inbox, wake: Callable[[], None], secret: str | None,
                readiness: ReadinessCheck) -> FastAPI:
    app = FastAPI(title="Help desk bot", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/telegram")
    async def telegram_update(request: Request) -> Response:
        started = time.perf_counter()
        given = request.headers.get(SECRET_HEADER, "")
        if secret and not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            payload = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return Response(status_code=400)
        # A database failure answers 500, so Telegram keeps the update and delivers it again.
        await store(inbox, payload, wake)
        metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        return Response(status_code=200)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = await readiness()
        return JSONResponse({"ready": all(checks.values()), "checks": checks},
                            status_code=200 if all(checks.values()) else 503)

    @app.get("/metrics")
    async def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return app
