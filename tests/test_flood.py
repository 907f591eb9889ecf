"""Flood control: a burst from one resident gets one polite note, not a queue of answers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from bot.flood import FloodGuard
from bot.inbox import DONE
from helpdesk.local_desk import LocalDesk
from helpdesk.settings import Settings
from tests.auxil.rasa import EchoRasa


def test_guard_warns_once_then_drops_until_the_burst_leaves_the_window() -> None:
    guard = FloodGuard(limit=3, window_s=10)
    assert [guard.check(1, t) for t in (0, 1, 2)] == ["ok"] * 3
    assert guard.check(1, 3) == "warn"
    assert guard.check(1, 4) == "drop"
    assert guard.check(2, 4) == "ok"  # another chat is not affected
    # Dropped messages count too: at 11.5 the messages of 3 and 4 are still in the window.
    assert guard.check(1, 11.5) == "drop"
    assert guard.check(1, 30) == "ok"
    assert [guard.check(1, 30 + t) for t in (1, 2)] == ["ok", "ok"]
    assert guard.check(1, 33) == "warn"  # a new burst is warned about again


def test_zero_turns_it_off() -> None:
    guard = FloodGuard(limit=0, window_s=10)
    assert {guard.check(1, 0) for _ in range(100)} == {"ok"}


def test_forgotten_chats_are_swept() -> None:
    guard = FloodGuard(limit=3, window_s=10)
    for chat_id in range(999):
        guard.check(chat_id, 0)
    guard.check(5000, 100)  # the 1000th check sweeps everything older than the window
    assert set(guard._chats) == {5000}


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[LocalDesk]:
    settings = Settings(_env_file=None, telegram_bot_token=None, data_dir=tmp_path,
                        rasa_token="unused",
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'flood.db'}",
                        flood_messages=3, flood_window_s=10.0)
    local = LocalDesk(settings)
    local.services.rasa = EchoRasa()  # type: ignore[assignment]
    async with local:
        yield local


def said(desk: LocalDesk, chat_id: int) -> list[str]:
    return [e.payload["text"] for e in desk.state.chats[chat_id].events
            if e.direction == "out" and e.kind == "message"]


async def test_a_flood_gets_one_note_in_the_residents_language(desk: LocalDesk) -> None:
    resident, neighbour = desk.new_chat("pt"), desk.new_chat("en")
    start = int(time.time())
    # Dates as Telegram stamps them: the burst is within one window whenever it is handled.
    for n, at in enumerate([start, start, start + 1, start + 1, start + 2, start + 3]):
        await desk.send(resident, {"text": f"pergunta {n}", "date": at})
    await desk.send(neighbour, {"text": "hello", "date": start + 3})
    # A sticker is a message too, and is dropped like text.
    await desk.send(resident, {"sticker": {"file_id": "s", "file_unique_id": "s", "type":
                                           "regular", "width": 1, "height": 1,
                                           "is_animated": False, "is_video": False},
                               "date": start + 4})
    # After a pause longer than the window, the resident is answered again.
    await desk.send(resident, {"text": "pergunta depois", "date": start + 30})

    note = texts.text("flood_slow_down", "pt", seconds=10)
    assert said(desk, resident.id) == ["echo: pergunta 0", "echo: pergunta 1",
                                       "echo: pergunta 2", note, "echo: pergunta depois"]
    assert said(desk, neighbour.id) == ["echo: hello"]
    rasa: EchoRasa = desk.services.rasa  # type: ignore[assignment]
    assert "pergunta 4" not in rasa.seen and "pergunta 5" not in rasa.seen
    # Dropped, not lost: every update is finished in the inbox, none failed or left pending.
    assert await desk.runner.inbox.counts() == {DONE: 9}


async def test_a_backlog_handled_at_once_is_not_a_flood(desk: LocalDesk) -> None:
    """After an outage the inbox hands over old messages together; their own dates count."""
    resident = desk.new_chat("en")
    start = int(time.time()) - 300
    for n in range(8):
        await desk.send(resident, {"text": f"question {n}", "date": start + 5 * n})
    assert said(desk, resident.id) == [f"echo: question {n}" for n in range(8)]


async def test_edits_count_by_their_edit_date(desk: LocalDesk) -> None:
    resident = desk.new_chat("en")
    start = int(time.time())
    first = await desk.send(resident, {"text": "one", "date": start})
    message_id = desk.state.chats[resident.id].events[0].payload["message_id"]
    assert first.answer == "echo: one"
    for n in range(3):
        await desk.edit(resident, message_id, f"one, edited {n}")
    # Four updates in one second: the third edit is over the limit of 3.
    assert said(desk, resident.id)[-1] == texts.text("flood_slow_down", "en", seconds=10)
    assert len(said(desk, resident.id)) == 4
