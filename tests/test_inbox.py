"""Updates are stored before they are acknowledged, handled once, and in order per chat.

The inbox itself runs against SQLite and the PostgreSQL every development and CI machine has;
the bot runs against the Bot API emulator (over its webhook, as Telegram would call it) with a
stand-in for Rasa.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.inbox import DONE, FAILED, WORKING, Inbox, InboxUpdate, chat_key, now_ms
from bot.store import Store, Turn
from helpdesk.local_desk import LocalDesk, free_port
from helpdesk.settings import Settings
from tests.auxil.postgres import fresh_database
from tests.auxil.rasa import EchoRasa


def message(update_id: int, chat_id: int, text: str = "hi") -> dict[str, Any]:
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": 0, "text": text,
                        "chat": {"id": chat_id, "type": "private", "first_name": "R"},
                        "from": {"id": chat_id, "is_bot": False, "first_name": "R"}}}


@pytest.fixture(params=["sqlite", "postgresql"])
async def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Inbox]:
    async with AsyncExitStack() as stack:
        url = (f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}" if request.param == "sqlite"
               else await stack.enter_async_context(fresh_database()))
        store = Store(url)
        await store.create_schema()
        yield Inbox(store, lease_ms=60_000, max_attempts=2)
        await store.close()


def test_chat_key_reads_every_kind_of_update() -> None:
    assert chat_key(message(1, 42)) == 42
    assert chat_key({"update_id": 2, "callback_query": {
        "id": "c", "from": {"id": 7}, "message": {"chat": {"id": 42}}}}) == 42
    assert chat_key({"update_id": 3, "inline_query": {"id": "q", "from": {"id": 9}}}) == 9
    assert chat_key({"update_id": 4, "poll": {"id": "p"}}) == 0


async def test_a_redelivered_update_is_stored_once(inbox: Inbox) -> None:
    assert await inbox.accept(message(10, 1)) is True
    assert await inbox.accept(message(10, 1, "changed on redelivery")) is False
    [claimed] = await inbox.claim("a", 10)
    assert claimed.payload["message"]["text"] == "hi"


async def test_each_chat_is_handled_in_order_and_chats_in_parallel(inbox: Inbox) -> None:
    for update_id, chat in [(1, 100), (2, 100), (3, 200), (4, 100), (5, 200)]:
        await inbox.accept(message(update_id, chat))
    first = await inbox.claim("a", 10)
    assert [c.update_id for c in first] == [1, 3]
    assert await inbox.claim("b", 10) == []  # both chats busy: nothing else may start
    await inbox.finish(1)
    assert [c.update_id for c in await inbox.claim("b", 10)] == [2]
    await inbox.finish(3)
    await inbox.finish(2)
    assert [c.update_id for c in await inbox.claim("a", 10)] == [4, 5]


async def test_two_replicas_never_get_the_same_update(inbox: Inbox) -> None:
    for update_id in range(1, 41):
        await inbox.accept(message(update_id, 1000 + update_id))
    got = await asyncio.gather(*(inbox.claim(f"replica-{n}", 40) for n in range(4)))
    ids = [c.update_id for batch in got for c in batch]
    assert sorted(ids) == list(range(1, 41))


async def test_a_dead_replicas_update_is_taken_over_after_its_lease(inbox: Inbox) -> None:
    await inbox.accept(message(1, 5))
    [first] = await inbox.claim("dead", 5)
    assert first.attempt == 1
    await inbox.renew("alive", [1])  # someone else's renewal changes nothing
    assert await inbox.claim("alive", 5) == []
    async with inbox.store.sessions.begin() as session:
        await session.execute(update(InboxUpdate).values(lease_until_ms=now_ms() - 1))
    [again] = await inbox.claim("alive", 5)
    assert (again.update_id, again.attempt) == (1, 2)


async def test_finished_updates_keep_no_text_and_failures_stop(inbox: Inbox) -> None:
    await inbox.accept(message(1, 5, "my card number is AB1234567CD"))
    await inbox.accept(message(2, 6))
    await inbox.claim("a", 5)
    await inbox.finish(1)
    assert await inbox.release(2) is True  # first failure: back in the queue
    await inbox.claim("a", 5)
    assert await inbox.release(2) is False  # max_attempts=2: given up
    async with inbox.store.sessions() as session:
        finished = await session.get(InboxUpdate, 1)
        failed = await session.get(InboxUpdate, 2)
    assert (finished.state, finished.payload) == (DONE, {})
    assert failed.state == FAILED
    assert await inbox.counts() == {DONE: 1, FAILED: 1}
    assert await inbox.purge_finished(older_than_ms=-1000) == 2


# -- the bot over its webhook -------------------------------------------------------------------

def hook_settings(tmp_path: Path) -> Settings:
    port = free_port()
    return Settings(_env_file=None, telegram_bot_token=None, data_dir=tmp_path,
                    rasa_token="unused", database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
                    webhook_url=f"http://127.0.0.1:{port}/telegram", webhook_port=port,
                    webhook_secret="s3cret", inbox_lease_s=1.0)


async def start_desk(settings: Settings) -> LocalDesk:
    desk = LocalDesk(settings)
    desk.services.rasa = EchoRasa()  # type: ignore[assignment]
    await desk.__aenter__()
    return desk


def answers(desk: LocalDesk, chat_id: int) -> list[str]:
    return [e.payload["text"] for e in desk.state.chats[chat_id].events
            if e.direction == "out" and e.kind == "message"]


async def test_webhook_stores_dedupes_and_reports(tmp_path: Path) -> None:
    settings = hook_settings(tmp_path)
    desk = await start_desk(settings)
    url = settings.webhook_url or ""
    base = url.rsplit("/", 1)[0]
    try:
        assert desk.state.webhook == {"url": url, "secret_token": "s3cret"}
        chat = desk.new_chat("en")
        sent = await desk.state.resident_text(chat, "where do I register my address")
        await desk.wait_done(sent["update_id"], 30)

        async with httpx.AsyncClient() as client:
            redelivered = await client.post(url, json=sent,
                                            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            forged = await client.post(url, json=message(999, chat.id),
                                       headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
            unsigned = await client.post(url, json=message(998, chat.id))
            garbage = await client.post(url, content=b"{not json",
                                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            health = await client.get(f"{base}/healthz")
            ready = await client.get(f"{base}/readyz")
            metrics = await client.get(f"{base}/metrics")
        assert (redelivered.status_code, forged.status_code, unsigned.status_code,
                garbage.status_code) == (200, 403, 403, 400)
        await asyncio.sleep(0.5)
        assert answers(desk, chat.id) == ["echo: where do I register my address"]
        assert desk.services.rasa.seen == ["where do I register my address"]  # type: ignore[attr-defined]
        assert health.json() == {"status": "ok"}
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": True, "rasa": True}
        assert 'helpdesk_updates_received_total{outcome="redelivered"} 1.0' in metrics.text
        assert await desk.runner.inbox.counts() == {DONE: 1}
    finally:
        await desk.__aexit__(None, None, None)


async def test_replies_keep_each_chats_order(tmp_path: Path) -> None:
    desk = await start_desk(hook_settings(tmp_path))
    try:
        chats = [desk.new_chat("en") for _ in range(3)]
        sent = [await desk.state.resident_text(chat, f"{chat.id} message {n}")
                for n in range(1, 5) for chat in chats]
        last = {u["message"]["chat"]["id"]: u["update_id"] for u in sent}
        for update_id in last.values():
            await desk.wait_done(update_id, 30)
        for chat in chats:
            assert answers(desk, chat.id) == [f"echo: {chat.id} message {n}" for n in range(1, 5)]
    finally:
        await desk.__aexit__(None, None, None)


async def test_updates_stored_before_a_crash_are_answered_after_restart(tmp_path: Path) -> None:
    settings = hook_settings(tmp_path)
    store = Store(settings.db_url)
    await store.create_schema()
    inbox = Inbox(store)
    # The previous process acknowledged three updates and died: one in hand (its lease running
    # out), one already answered and recorded before it died, one not yet touched.
    await inbox.accept(message(9001, 501, "in hand"))
    await inbox.accept(message(9002, 502, "answered already"))
    await inbox.accept(message(9003, 503, "untouched"))
    await inbox.claim("dead-replica", 2)
    await store.add_turn(Turn(update_id=9002, chat_id=502, text="answered already",
                              language="en", answer_language="en", latency_ms=1.0))
    async with store.sessions.begin() as session:
        await session.execute(update(InboxUpdate).where(InboxUpdate.state == WORKING)
                              .values(lease_until_ms=now_ms() - 1))
    await store.close()

    desk = LocalDesk(settings)
    desk.services.rasa = EchoRasa()  # type: ignore[assignment]
    for chat_id in (501, 502, 503):
        desk.state.chat(chat_id, "en")
    await desk.__aenter__()
    try:
        for update_id in (9001, 9002, 9003):
            await desk.wait_done(update_id, 30)
        assert answers(desk, 501) == ["echo: in hand"]
        assert answers(desk, 502) == []  # not answered twice
        assert answers(desk, 503) == ["echo: untouched"]
        assert await desk.runner.inbox.counts() == {DONE: 3}
    finally:
        await desk.__aexit__(None, None, None)


async def test_an_update_the_library_cannot_read_fails_alone(tmp_path: Path) -> None:
    settings = hook_settings(tmp_path).model_copy(update={"webhook_url": None})
    desk = await start_desk(settings)  # long polling: the update arrives in a getUpdates batch
    try:
        unreadable = await desk.state.push_update({"poll": {"id": "p1"}})  # required fields absent
        chat = desk.new_chat("en")
        answered = await desk.say(chat, "still there?", timeout_s=30)
        assert answered.answer == "echo: still there?"
        inbox = desk.runner.inbox
        for _ in range(100):
            if (await inbox.counts()).get(FAILED):
                break
            await asyncio.sleep(0.1)
        async with inbox.store.sessions() as session:
            row = await session.get(InboxUpdate, unreadable["update_id"])
        assert (row.state, row.attempts) == (FAILED, settings.inbox_max_attempts)
    finally:
        await desk.__aexit__(None, None, None)
