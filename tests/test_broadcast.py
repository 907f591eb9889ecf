"""Notices and their delivery: composing and queueing (bot/broadcast.py), the outbox sender
against the Bot API emulator with Telegram's limits on (bot/outbox.py), and the garbage
reminders (bot/reminders.py). The crash test is in test_broadcast_crash.py."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import texts
from bot.broadcast import (
    DRAFT,
    FALLBACK,
    MACHINE,
    Broadcasts,
    NoticeError,
    Text,
    render,
)
from bot.garbage_calendar import SAMPLE_CALENDAR, load
from bot.outbox import BLOCKED, OutboxMessage, OutboxSender, bot_sender
from bot.outbox import outbox_bot as make_bot
from bot.reminders import Reminders
from bot.store import Resident, Store
from bot.subscriptions import (
    DISASTER,
    GARBAGE,
    NEWS,
    Subscription,
    Subscriptions,
    resident_language,
)
from emulator.app import create_app
from emulator.state import Chat, EmulatorState, RateLimits
from helpdesk.settings import EMULATOR_BOT_TOKEN, BroadcastSettings, ReminderSettings
from tests.auxil.servers import serving

FIRST_CHAT = 9_100_000_000
TEXTS = {"en": Text("Heavy rain: stay away from rivers."),
         "ja": Text("おおあめです。川（かわ）に ちかづかないで ください。"),
         "pt": Text("Chuva forte: fique longe dos rios.", MACHINE)}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await store.create_schema()
    yield store
    await store.close()


async def subscribe(store: Store, chat_id: int, language: str | None, **topics: Any) -> None:
    """A subscriber whose language the bot learnt from a conversation (or not at all)."""
    if language is not None:
        await store.update_resident(chat_id, conversation_language=language)
    await Subscriptions(store).set(chat_id, "en", **topics)


def bot_texts(chat: Chat) -> list[str]:
    return [e.payload["text"] for e in chat.events
            if e.direction == "out" and e.kind == "message"]


# -- composing and queueing -------------------------------------------------------------------

def test_render_in_the_residents_language_with_machine_label() -> None:
    text, language = render(DISASTER, TEXTS, "pt")
    assert language == "pt"
    assert text.startswith(texts.text("notice_header_disaster", "pt"))
    assert "Chuva forte" in text and texts.text("machine_translation_label", "pt") in text
    curated, _ = render(DISASTER, TEXTS, "en")
    assert texts.text("machine_translation_label", "en") not in curated


def test_render_falls_back_to_english_and_easy_japanese() -> None:
    text, language = render(NEWS, TEXTS, "vi")
    assert language == FALLBACK
    assert text.startswith(texts.text("notice_fallback", "vi"))
    assert "Heavy rain" in text and "おおあめ" in text


def test_render_escapes_staff_text() -> None:
    text, _ = render(NEWS, {"en": Text("a <b>bold</b> & claim")}, "en")
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; claim" in text


async def test_send_queues_one_row_per_subscriber_in_their_language(store: Store) -> None:
    await subscribe(store, 1, "pt", disaster=True)
    await subscribe(store, 2, "vi", disaster=True)
    await subscribe(store, 3, None, disaster=True)  # no conversation yet: subscribed in "en"
    await subscribe(store, 4, "pt", news=True)  # another topic
    await store.update_resident(5, chosen_language="ja", conversation_language="pt")
    await Subscriptions(store).set(5, "en", disaster=True)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(DISASTER, TEXTS, created_by="aiko")
    assert await broadcasts.send(notice_id) == 4
    with pytest.raises(NoticeError, match="already queued"):
        await broadcasts.send(notice_id)
    async with store.sessions() as session:
        rows = {r.chat_id: r for r in await session.scalars(select(OutboxMessage))}
    assert {c: (r.language, r.text_language) for c, r in rows.items()} == {
        1: ("pt", "pt"), 2: ("vi", FALLBACK), 3: ("en", "en"), 5: ("ja", "ja")}
    progress = await broadcasts.progress(notice_id)
    assert (progress.total, progress.pending, progress.sent, progress.done) == (4, 4, 0, False)
    assert progress.by_language == {"pt": 1, FALLBACK: 1, "en": 1, "ja": 1}


async def test_unreviewed_drafts_and_missing_fallback_block_sending(store: Store) -> None:
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(NEWS, {**TEXTS, "ko": Text("기계", DRAFT)}, "aiko")
    with pytest.raises(NoticeError, match="not yet reviewed: ko"):
        await broadcasts.send(notice_id)
    await broadcasts.set_text(notice_id, "ko", Text("검토한 번역", MACHINE))
    await broadcasts.remove_text(notice_id, "ja")
    with pytest.raises(NoticeError, match="missing: ja"):
        await broadcasts.send(notice_id)
    with pytest.raises(NoticeError, match="unknown topic"):
        await broadcasts.create_notice("sports", TEXTS, "aiko")
    with pytest.raises(NoticeError, match="at most"):
        await broadcasts.create_notice(NEWS, {"en": Text("x" * 2000)}, "aiko")


async def test_garbage_notice_for_some_districts(store: Store) -> None:
    await subscribe(store, 1, "en", garbage=True, district="sample-a")
    await subscribe(store, 2, "en", garbage=True, district="sample-b")
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(GARBAGE, TEXTS, "aiko", districts=["sample-b"])
    assert await broadcasts.send(notice_id) == 1
    with pytest.raises(NoticeError, match="only garbage"):
        await broadcasts.create_notice(NEWS, TEXTS, "aiko", districts=["sample-b"])


# -- delivery through the emulator ---------------------------------------------------------

@pytest.fixture
async def telegram() -> AsyncIterator[tuple[EmulatorState, str]]:
    state = EmulatorState(EMULATOR_BOT_TOKEN)
    async with serving(create_app(state)) as port:
        yield state, f"http://127.0.0.1:{port}"


async def deliver(store: Store, base_url: str, **overrides: Any) -> OutboxSender:
    settings = BroadcastSettings(**{"rate_per_s": 200.0, "workers": 4,
                                                 "idle_poll_s": 0.05, **overrides})
    bot = make_bot(EMULATOR_BOT_TOKEN, base_url, settings.workers)
    await bot.initialize()
    sender = OutboxSender(store, bot_sender(bot), settings)
    try:
        await sender.run(until_empty=True)
    finally:
        await bot.shutdown()
    return sender


async def test_sender_honours_telegram_limits(store: Store, telegram: tuple[EmulatorState, str],
                                              ) -> None:
    """Asked for 60 msg/s against Telegram's 30: every 429 pauses the whole sender for its
    retry_after, so few are refused, and every resident still gets exactly one copy."""
    state, base_url = telegram
    state.limits = RateLimits(per_bot=30, per_chat=1)
    chats = [state.chat(FIRST_CHAT + i) for i in range(120)]
    for chat in chats:
        await subscribe(store, chat.id, "pt", disaster=True)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(DISASTER, TEXTS, "aiko")
    await broadcasts.send(notice_id)
    started = time.monotonic()
    await deliver(store, base_url, rate_per_s=60.0)
    elapsed = time.monotonic() - started
    assert all(len(bot_texts(chat)) == 1 and "Chuva forte" in bot_texts(chat)[0]
               for chat in chats)
    # Hammering at 60/s without pausing would be refused about 30 times a second.
    assert 0 < state.limits.refused <= 12
    assert elapsed >= 120 / 30 - 1
    progress = await broadcasts.progress(notice_id)
    assert (progress.sent, progress.done) == (120, True)


async def test_sender_keeps_one_message_per_second_per_chat(
        store: Store, telegram: tuple[EmulatorState, str]) -> None:
    state, base_url = telegram
    state.limits = RateLimits(per_bot=None, per_chat=1)
    chat = state.chat(FIRST_CHAT)
    await subscribe(store, chat.id, "en", disaster=True, news=True)
    broadcasts = Broadcasts(store)
    for topic in (DISASTER, NEWS, DISASTER):
        await broadcasts.send(await broadcasts.create_notice(topic, TEXTS, "aiko"))
    await deliver(store, base_url)
    sent = [e.payload["date"] for e in chat.events if e.direction == "out"]
    assert len(sent) == 3
    assert state.limits.refused == 0  # spaced by the sender, not by Telegram's refusals


async def test_blocked_residents_are_marked_and_never_retried(
        store: Store, telegram: tuple[EmulatorState, str]) -> None:
    state, base_url = telegram
    open_chat, blocked_chat = state.chat(FIRST_CHAT), state.chat(FIRST_CHAT + 1)
    blocked_chat.blocked = True
    for chat in (open_chat, blocked_chat):
        await subscribe(store, chat.id, "en", disaster=True, news=True)
    broadcasts = Broadcasts(store)
    first = await broadcasts.create_notice(DISASTER, TEXTS, "aiko")
    second = await broadcasts.create_notice(NEWS, TEXTS, "aiko")
    await broadcasts.send(first)
    await broadcasts.send(second)
    await deliver(store, base_url, workers=1)
    assert len(bot_texts(open_chat)) == 2 and bot_texts(blocked_chat) == []
    async with store.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == blocked_chat.id)))
        subscription = await session.get(Subscription, blocked_chat.id)
    # The first refusal blocks the resident's other queued notice too: one attempt in all.
    assert [r.status for r in rows] == [BLOCKED, BLOCKED]
    assert sum(r.attempts for r in rows) == 1
    assert subscription is not None and subscription.blocked_at is not None
    assert (await broadcasts.progress(first)).blocked == 1
    third = await broadcasts.create_notice(DISASTER, TEXTS, "aiko")
    assert await broadcasts.send(third) == 1  # only the resident who did not block
    # Subscribing again (only possible after unblocking) lifts the mark.
    await Subscriptions(store).set(blocked_chat.id, "en", disaster=True)
    assert len(await Subscriptions(store).recipients(DISASTER)) == 2


async def test_in_doubt_rows_are_not_resent_unless_staff_ask(
        store: Store, telegram: tuple[EmulatorState, str]) -> None:
    """A row claimed by a sender that died before recording the outcome (here: claimed and
    never sent) becomes `unknown` after its lease and is not sent again by itself."""
    state, base_url = telegram
    chat = state.chat(FIRST_CHAT)
    await subscribe(store, chat.id, "en", news=True)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(NEWS, TEXTS, "aiko")
    await broadcasts.send(notice_id)
    async def never(chat_id: int, text: str) -> int:
        raise AssertionError("a dead sender sends nothing")

    dead = OutboxSender(store, never, BroadcastSettings())
    assert await dead.claim() is not None  # …and the process dies here
    await deliver(store, base_url, lease_s=0.0)
    assert bot_texts(chat) == []
    progress = await broadcasts.progress(notice_id)
    assert (progress.in_doubt, progress.sent, progress.done) == (1, 0, True)
    assert await broadcasts.resend_unknown(notice_id) == 1
    await deliver(store, base_url)
    assert len(bot_texts(chat)) == 1
    assert (await broadcasts.progress(notice_id)).sent == 1


async def test_withdrawn_notice_sends_nothing_more(store: Store) -> None:
    await subscribe(store, 1, "en", news=True)
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(NEWS, TEXTS, "aiko")
    await broadcasts.send(notice_id)
    assert await broadcasts.withdraw(notice_id) == 1
    progress = await broadcasts.progress(notice_id)
    assert (progress.counts["cancelled"], progress.done) == (1, True)


# -- emulator ----------------------------------------------------------------------------------

def test_rate_limits_answer_like_telegram() -> None:
    limits = RateLimits(per_bot=3, per_chat=1)
    assert [limits.retry_after(c, 0.0) for c in (1, 2, 3)] == [None, None, None]
    assert limits.retry_after(4, 0.5) == 1  # the bot's fourth message within a second
    assert limits.retry_after(1, 1.0) is None  # the first has left the window
    assert limits.retry_after(1, 1.5) == 1  # but chat 1 got one half a second ago
    assert limits.refused == 2


# -- reminders ---------------------------------------------------------------------------------

TOKYO_EVENING = dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)  # 19:30 in Tokyo, a Wednesday


async def test_reminders_go_out_once_the_evening_before(store: Store) -> None:
    calendar = load(SAMPLE_CALENDAR)
    assert calendar.sample
    thursday = dt.date(2026, 11, 26)
    assert calendar.collections("sample-a", thursday) == ["burnable"]
    assert calendar.collections("sample-b", thursday) == []
    await subscribe(store, 1, "pt", garbage=True, district="sample-a")
    await subscribe(store, 2, "pt", garbage=True, district="sample-b")
    await subscribe(store, 3, "ko", garbage=True, district="sample-c")
    settings = ReminderSettings()
    reminders = Reminders(Broadcasts(store), calendar, settings)
    assert await reminders.run_due(TOKYO_EVENING - dt.timedelta(hours=1)) == {}  # 18:30
    queued = await reminders.run_due(TOKYO_EVENING)
    assert queued == {"garbage:sample-a:2026-11-26": 1, "garbage:sample-c:2026-11-26": 1}
    # The next check, and a restarted bot's first one, queue nothing again.
    assert await reminders.run_due(TOKYO_EVENING + dt.timedelta(minutes=1)) == {}
    restarted = Reminders(Broadcasts(store), load(SAMPLE_CALENDAR), settings)
    assert await restarted.run_due(TOKYO_EVENING + dt.timedelta(hours=2)) == {}
    assert await restarted.run_due(TOKYO_EVENING + dt.timedelta(hours=4)) == {}  # 23:30
    async with store.sessions() as session:
        rows = {r.chat_id: r for r in await session.scalars(select(OutboxMessage))}
    assert set(rows) == {1, 3}
    assert texts.text("garbage_burnable", "pt") in rows[1].text
    assert "2026-11-26 (qui)" in rows[1].text
    assert texts.text("garbage_sample_note", "pt")[:20] in rows[1].text
    assert texts.text("garbage_plastic", "ko") in rows[3].text


async def test_reminders_resume_a_partly_queued_evening(store: Store) -> None:
    """One district's reminder was queued before a crash: the restart queues the other."""
    calendar = load(SAMPLE_CALENDAR)
    await subscribe(store, 1, "en", garbage=True, district="sample-a")
    await subscribe(store, 3, "en", garbage=True, district="sample-c")
    reminders = Reminders(Broadcasts(store), calendar, ReminderSettings())
    only_a = Reminders(Broadcasts(store), type(calendar)(
        {"sample-a": calendar.districts["sample-a"]}, calendar.no_collection, True),
        reminders.settings)
    assert list(await only_a.run_due(TOKYO_EVENING)) == ["garbage:sample-a:2026-11-26"]
    assert list(await reminders.run_due(TOKYO_EVENING)) == ["garbage:sample-c:2026-11-26"]
    async with store.sessions() as session:
        assert sorted(await session.scalars(select(OutboxMessage.chat_id))) == [1, 3]


def test_resident_language_prefers_choice_then_conversation() -> None:
    sub = Subscription(chat_id=1, language="es")
    assert resident_language(Resident(chosen_language="ja", conversation_language="pt"),
                             sub) == "ja"
    assert resident_language(Resident(conversation_language="pt"), sub) == "pt"
    assert resident_language(None, sub) == "es"
