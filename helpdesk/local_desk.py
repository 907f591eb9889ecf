"""The emulator and the real bot in one process, talking over HTTP as they would in production.

`make ask` and the end-to-end tests drive residents through it; Rasa and the action server run
as their own processes (see `helpdesk.backend`).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from telegram.ext import Application

from bot.runner import BotRunner
from bot.services import Services
from emulator.app import create_app
from emulator.state import Chat, EmulatorState
from helpdesk.settings import EMULATOR_BOT_TOKEN, Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Exchange:
    """One resident message and everything the resident saw in reply."""

    chat_id: int
    update_id: int
    replies: list[dict[str, Any]]
    latency_ms: float
    turn: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def answer(self) -> str:
        return "\n\n".join(r.get("text", "") for r in self.replies)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = [r.get("reply_markup", {}).get("inline_keyboard", []) for r in self.replies]
        return [button for keyboard in rows for row in keyboard for button in row]


class LocalDesk:
    def __init__(self, settings: Settings, first_chat_id: int = 7_000_000_000) -> None:
        self.port = free_port()
        self.settings = settings.model_copy(update={"telegram_bot_token": None,
                                                    "web_host": "127.0.0.1",
                                                    "web_port": self.port})
        self.state = EmulatorState(EMULATOR_BOT_TOKEN)
        self.chat_ids = itertools.count(first_chat_id)
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._finished: set[int] = set()
        self._server = uvicorn.Server(uvicorn.Config(create_app(self.state), host="127.0.0.1",
                                                     port=self.port, log_level="warning",
                                                     lifespan="off"))
        self.runner = BotRunner(self.settings, poll_timeout_s=5)

    async def __aenter__(self) -> LocalDesk:
        self._server_task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)
        await self._start_bot()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._stop_bot()
        self._server.should_exit = True
        await self._server_task

    @property
    def services(self) -> Services:
        return self.runner.services

    @property
    def application(self) -> Application:
        return self.runner.application

    async def _start_bot(self) -> None:
        self.services.update_listeners.append(self._update_done)
        await self.runner.start()

    async def _stop_bot(self) -> None:
        await self.runner.stop()

    async def restart_bot(self, services: Services | None = None) -> None:
        """Stops the bot and starts a new Application against the same emulator and database,
        as a redeploy would (`services`: prebuilt ones, e.g. with a stand-in Rasa)."""
        await self._stop_bot()
        self.runner = BotRunner(self.settings, services, poll_timeout_s=5)
        await self._start_bot()

    async def _update_done(self, update_id: int) -> None:
        future = self._waiting.pop(update_id, None)
        if future is None:
            self._finished.add(update_id)  # done before anyone waited (same event loop)
        elif not future.done():
            future.set_result(None)

    def new_chat(self, language_code: str | None = None) -> Chat:
        return self.state.chat(next(self.chat_ids), language_code)

    async def wait_done(self, update_id: int, timeout_s: float) -> None:
        """Returns once the bot has finished with update `update_id` (at once if it has)."""
        if update_id in self._finished:
            self._finished.discard(update_id)
            return
        future = self._waiting[update_id] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(future, timeout_s)
        finally:
            self._waiting.pop(update_id, None)

    async def _exchange(self, chat: Chat, send: Any, timeout_s: float) -> Exchange:
        """Sends one update and waits until the bot has finished handling it."""
        before = chat.events[-1].seq if chat.events else 0
        started = time.perf_counter()
        update_id = (await send())["update_id"]
        await self.wait_done(update_id, timeout_s)
        latency = (time.perf_counter() - started) * 1000
        events = [e for e in chat.events if e.seq > before]
        replies = [e.payload for e in events if e.direction == "out" and e.kind == "message"]
        turn = await self.services.store.turn_for_update(update_id)
        return Exchange(chat.id, update_id, replies, latency, turn,
                        [{"kind": e.kind, "direction": e.direction, "payload": e.payload}
                         for e in events])

    async def say(self, chat: Chat, text: str, timeout_s: float = 60.0) -> Exchange:
        return await self._exchange(
            chat, lambda: self.state.resident_text(chat, text), timeout_s)

    async def send(self, chat: Chat, content: dict[str, Any], timeout_s: float = 60.0,
                   ) -> Exchange:
        return await self._exchange(
            chat, lambda: self.state.resident_message(chat, content),
            timeout_s)

    async def press(self, chat: Chat, message_id: int, data: str,
                    timeout_s: float = 60.0) -> Exchange:
        return await self._exchange(
            chat, lambda: self.state.resident_presses(chat, message_id, data),
            timeout_s)

    async def member_sends(self, group: Chat, from_id: int, content: dict[str, Any],
                           thread_id: int | None = None, timeout_s: float = 60.0) -> Exchange:
        """Someone writes in a staff group (in a topic when `thread_id` is given) and the bot
        handles it. Unlike /api/groups it also lets someone who is not (or no longer) a member
        write, as a message sent just before they left would arrive."""
        member = group.members.get(from_id)
        sender = dict(member.user) if member else \
            dict(self.state.known_user(from_id) or {"id": from_id, "is_bot": False,
                                                     "first_name": "Someone"})
        if thread_id is not None:
            content = {**self.state.topic_fields(group, group.topics[thread_id]), **content}

        async def send() -> dict[str, Any]:
            update = await self.state.group_message(
                group, self.state.new_message(group, sender, content))
            if update is None:
                raise RuntimeError("the bot does not see this message")
            return update

        return await self._exchange(group, send, timeout_s)

    async def member_says(self, group: Chat, from_id: int, text: str,
                          thread_id: int | None = None, timeout_s: float = 60.0) -> Exchange:
        return await self.member_sends(group, from_id, self.state.text_content(text),
                                       thread_id, timeout_s)

    async def edit(self, chat: Chat, message_id: int, text: str,
                   timeout_s: float = 60.0) -> Exchange:
        return await self._exchange(
            chat, lambda: self.state.resident_edit(chat, message_id, text),
            timeout_s)
