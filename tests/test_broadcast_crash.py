"""A disaster notice to 5,000 subscribers, the sender process SIGKILLed in the middle of it,
then restarted: every subscriber ends up with exactly one copy, in their language.

The kill lands in the window that matters: Telegram (the emulator, in this process) has
accepted message number KILL_AT and the ones in flight beside it, but none of their answers
has reached the sender, so none of those outcomes is in the database. The emulator holds those
answers until every row the sender claimed has reached it, then the sender is killed. The
restarted sender must neither resend them (a duplicate) nor lose the rest.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.broadcast import FALLBACK, MACHINE, Broadcasts, Text
from bot.outbox import SENDING, SENT, UNKNOWN, OutboxMessage
from bot.store import Resident, Store
from bot.subscriptions import DISASTER, Subscription
from emulator.app import create_app
from emulator.bot_api import BotAPI
from emulator.state import EmulatorState
from helpdesk.settings import EMULATOR_BOT_TOKEN, ROOT
from tests.auxil.servers import serving

SUBSCRIBERS = 5000
KILL_AT = 2400
FIRST_CHAT = 9_200_000_000
WORKERS = 4
#: The notice exists in ten languages; Thai residents (and one whose language the help desk
#: does not serve) get the English + Easy Japanese fallback.
NOTICE = {
    "en": Text("Tsunami warning: go to high ground now."),
    "ja": Text("つなみ けいほう です。すぐに たかい ところへ にげて ください。"),
    "pt": Text("Alerta de tsunami: vá para um lugar alto agora."),
    "vi": Text("Cảnh báo sóng thần: hãy lên chỗ cao ngay.", MACHINE),
    "ne": Text("सुनामी चेतावनी: अहिले नै अग्लो ठाउँमा जानुहोस्।", MACHINE),
    "es": Text("Alerta de tsunami: vaya a un lugar alto ahora."),
    "tl": Text("Babala sa tsunami: pumunta agad sa mataas na lugar.", MACHINE),
    "id": Text("Peringatan tsunami: segera pergi ke tempat tinggi.", MACHINE),
    "zh": Text("海啸警报：请立即前往高处。"),
    "ko": Text("쓰나미 경보: 지금 바로 높은 곳으로 대피하세요."),
}
LANGUAGES = [*NOTICE, "th", "fr"]


def language_of(index: int) -> str:
    return LANGUAGES[index % len(LANGUAGES)]


async def populate(store: Store, chat_ids: list[int]) -> None:
    """Residents whose language the bot knows three ways: chosen, from the conversation, or
    only from when they subscribed."""
    async with store.sessions.begin() as session:
        for index, chat_id in enumerate(chat_ids):
            language = language_of(index)
            if index % 3 == 0:
                session.add(Resident(chat_id=chat_id, chosen_language=language,
                                     conversation_language="en"))
            elif index % 3 == 1:
                session.add(Resident(chat_id=chat_id, conversation_language=language))
            session.add(Subscription(chat_id=chat_id, disaster=True, garbage=False, news=False,
                                     language=language if index % 3 == 2 else "en"))


class Gate:
    """Wraps the emulator's sendMessage: from the KILL_AT-th message on, it accepts each
    message (the resident has it) and then keeps Telegram's answer back until released."""

    def __init__(self) -> None:
        self.accepted = 0
        self.held = 0
        self.tripped = asyncio.Event()
        self.released = asyncio.Event()
        self.armed = True

    def wrap(self, original: Any) -> Any:
        async def send_message(api: BotAPI, params: dict[str, Any]) -> dict[str, Any]:
            result = await original(api, params)
            self.accepted += 1
            if self.armed and self.accepted >= KILL_AT:
                self.tripped.set()
                self.held += 1
                await self.released.wait()
            return result
        return send_message


def sender(port: int, db_url: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url,
                   "BROADCAST__RATE_PER_S": "5000", "BROADCAST__WORKERS": str(WORKERS),
                   "BROADCAST__IDLE_POLL_S": "0.05", "LOG_LEVEL": "WARNING", **env}
    return subprocess.Popen([sys.executable, "-m", "bot.outbox", "--emulator-url",
                             f"http://127.0.0.1:{port}"], cwd=ROOT, env=environment)


async def count(store: Store, status: str) -> int:
    async with store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.status == status)) or 0)


async def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_broadcast_delivers_exactly_one_copy_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate()
    monkeypatch.setattr(BotAPI, "send_message", gate.wrap(BotAPI.send_message))
    state = EmulatorState(EMULATOR_BOT_TOKEN)
    chat_ids = [FIRST_CHAT + i for i in range(SUBSCRIBERS)]
    for chat_id in chat_ids:
        state.chat(chat_id)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = Store(db_url)
    await store.create_schema()
    await populate(store, chat_ids)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(DISASTER, NOTICE, created_by="test")
    assert await broadcasts.send(notice_id) == SUBSCRIBERS

    async with serving(create_app(state)) as port:
        first = sender(port, db_url)
        try:
            await asyncio.wait_for(gate.tripped.wait(), 300)

            async def all_claims_reached_telegram() -> bool:
                return gate.held >= 1 and await count(store, SENDING) == gate.held

            await wait_for(all_claims_reached_telegram, 30, "the claimed rows to arrive")
            first.send_signal(signal.SIGKILL)
            assert await asyncio.to_thread(first.wait, 30) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        in_flight = gate.held
        gate.armed = False
        gate.released.set()
        delivered_before_restart = gate.accepted
        assert KILL_AT <= delivered_before_restart < SUBSCRIBERS
        assert 1 <= in_flight <= WORKERS
        assert await count(store, SENDING) == in_flight  # accepted, outcome never recorded

        second = sender(port, db_url, BROADCAST__LEASE_S="0")
        assert await asyncio.to_thread(second.wait, 300) == 0

    copies: Counter[int] = Counter()
    for chat_id in chat_ids:
        copies[len([e for e in state.chats[chat_id].events
                    if e.direction == "out" and e.kind == "message"])] += 1
    assert copies == {1: SUBSCRIBERS}, f"copies per subscriber: {dict(copies)}"

    for index, chat_id in enumerate(chat_ids):
        language = language_of(index)
        text = next(e.payload["text"] for e in state.chats[chat_id].events)
        if language in NOTICE:
            assert NOTICE[language].text in text, (chat_id, language)
            assert texts.text("notice_header_disaster", language).split("<b>")[1].split(
                "</b>")[0] in text
        else:
            assert NOTICE["en"].text in text and NOTICE["ja"].text in text, (chat_id, language)

    progress = await broadcasts.progress(notice_id)
    assert progress.done
    assert progress.counts[SENT] == SUBSCRIBERS - in_flight
    assert progress.counts[UNKNOWN] == in_flight  # reported to staff as in doubt, not resent
    expected_fallback = sum(1 for i in range(SUBSCRIBERS) if language_of(i) not in NOTICE)
    assert progress.by_language[FALLBACK] == expected_fallback
    await store.close()


async def test_sigkill_at_an_arbitrary_moment_never_duplicates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same crash without waiting for the claimed rows to reach Telegram: the sender dies
    wherever it happens to be. Whatever that is, nobody gets two copies, and a subscriber who
    got none is among the few rows reported as in doubt (see bot/outbox.py for the choice)."""
    subscribers, kill_at = 1500, 700
    process: dict[str, subprocess.Popen[bytes]] = {}
    accepted = 0
    original = BotAPI.send_message

    async def send_message(api: BotAPI, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal accepted
        result = await original(api, params)
        accepted += 1
        if accepted == kill_at:
            process["first"].send_signal(signal.SIGKILL)
        return result

    monkeypatch.setattr(BotAPI, "send_message", send_message)
    state = EmulatorState(EMULATOR_BOT_TOKEN)
    chat_ids = [FIRST_CHAT + i for i in range(subscribers)]
    for chat_id in chat_ids:
        state.chat(chat_id)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = Store(db_url)
    await store.create_schema()
    await populate(store, chat_ids)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(DISASTER, NOTICE, created_by="test")
    await broadcasts.send(notice_id)
    async with serving(create_app(state)) as port:
        process["first"] = sender(port, db_url)
        assert await asyncio.to_thread(process["first"].wait, 300) == -signal.SIGKILL
        second = sender(port, db_url, BROADCAST__LEASE_S="0")
        assert await asyncio.to_thread(second.wait, 300) == 0

    copies = {chat_id: len([e for e in state.chats[chat_id].events if e.direction == "out"])
              for chat_id in chat_ids}
    assert max(copies.values()) == 1
    async with store.sessions() as session:
        in_doubt = set(await session.scalars(select(OutboxMessage.chat_id).where(
            OutboxMessage.status == UNKNOWN)))
    assert len(in_doubt) <= WORKERS
    assert {chat_id for chat_id, n in copies.items() if n == 0} <= in_doubt
    progress = await broadcasts.progress(notice_id)
    assert progress.done and progress.sent + progress.in_doubt == subscribers
    await store.close()
