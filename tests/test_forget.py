"""/forget erases a resident's stored data after a yes; the retention job deletes old data.

The bot runs against the Bot API emulator with a stand-in for Rasa; Rasa's tracker store is a
SQLite file with the table Rasa's SQLTrackerStore creates, so the erasure of the conversation on
Rasa's side is checked against the real layout.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

from sqlalchemy import select, update

from actions.feedback_store import AnswerFeedback
from bot import texts
from bot.conversation import rasa_sender
from bot.erasure import ERASED, purge_older_than
from bot.store import Turn
from bot.subscriptions import Subscriptions
from bot.tickets import CLOSED, Ticket, TicketMessage
from helpdesk.local_desk import LocalDesk
from helpdesk.settings import Settings
from tests.auxil.rasa import EchoRasa

RASA_EVENTS = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),
    action_name VARCHAR(255), data TEXT)"""


def settings_for(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=None, data_dir=tmp_path,
                    rasa_token="unused", database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")


def rasa_events(settings: Settings, rows: list[tuple[str, float]]) -> Path:
    path = settings.data_dir / "rasa-tracker.db"
    with sqlite3.connect(path) as db:
        db.execute(RASA_EVENTS)
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) "
                       "VALUES (?, 'user', ?, '{}')", rows)
    return path


def senders(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return sorted(row[0] for row in db.execute("SELECT sender_id FROM events"))


async def test_forget_asks_then_erases_everything_about_the_resident(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    desk = LocalDesk(settings)
    desk.services.rasa = EchoRasa()  # type: ignore[assignment]
    async with desk:
        store = desk.services.store
        chat, other = desk.new_chat("pt"), desk.new_chat("en")
        await desk.say(chat, "Onde faço o registro de endereço? Meu telefone é 090-1234-5678")
        await desk.say(other, "where is the city office")
        ticket = await desk.services.tickets.create(chat.id, "pt", "Renovação de visto")
        await desk.services.tickets.add_message(TicketMessage(
            ticket_id=ticket.id, direction="resident", sender_id=chat.id, kind="text",
            text="Meu cartão é AB12345678CD", source_message_id=1))
        async with store.sessions.begin() as session:
            session.add_all([AnswerFeedback(chat_id=c, article_id="resident-registration",
                                            language="pt", rating="down",
                                            answered_at=dt.datetime.now(dt.UTC))
                             for c in (chat.id, other.id)])
        subscriptions = Subscriptions(store)
        await subscriptions.set(chat.id, "pt", disaster=True)
        await subscriptions.set(other.id, "en", disaster=True)
        tracker = rasa_events(settings, [(rasa_sender(chat.id), time.time()),
                                         (rasa_sender(other.id), time.time())])

        asked = await desk.say(chat, "/forget")
        assert asked.answer == texts.text("forget_confirm", "pt")
        yes, no = asked.buttons
        kept = await desk.press(chat, asked.replies[0]["message_id"], no["callback_data"])
        assert [e["payload"]["text"] for e in kept.events if e["kind"] == "edit"] == [
            texts.text("forget_cancelled", "pt")]
        assert await store.recent_turns(chat.id, 10)

        asked = await desk.say(chat, "/forget")
        done = await desk.press(chat, asked.replies[0]["message_id"],
                                asked.buttons[0]["callback_data"])
        assert [e["payload"]["text"] for e in done.events if e["kind"] == "edit"] == [
            texts.text("forget_done", "pt")]

        assert await store.resident(chat.id) is None
        assert await store.recent_turns(chat.id, 10) == []
        assert [t.text for t in await store.recent_turns(other.id, 10)] == [
            "where is the city office"]
        async with store.sessions() as session:
            erased = await session.get(Ticket, ticket.id)
            messages = list(await session.scalars(select(TicketMessage)))
        assert (erased.status, erased.subject, erased.close_note) == (CLOSED, ERASED, ERASED)
        assert messages == []
        assert senders(tracker) == [rasa_sender(other.id)]
        assert await subscriptions.get(chat.id) is None
        assert await subscriptions.get(other.id) is not None
        async with store.sessions() as session:
            rated = list(await session.scalars(select(AnswerFeedback.chat_id)))
        assert rated == [other.id]
        assert yes["text"] == texts.text("forget_yes", "pt")


async def test_retention_deletes_only_what_is_older_than_the_setting(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    desk = LocalDesk(settings)
    desk.services.rasa = EchoRasa()  # type: ignore[assignment]
    async with desk:
        store = desk.services.store
        chat = desk.new_chat("en")
        await desk.say(chat, "old question")
        await desk.say(chat, "new question")
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
        async with store.sessions.begin() as session:
            await session.execute(update(Turn).where(Turn.text == "old question")
                                  .values(created_at=long_ago))
        old_ticket = await desk.services.tickets.create(chat.id, "en", "old")
        await desk.services.tickets.update(old_ticket.id, status=CLOSED, closed_at=long_ago)
        open_ticket = await desk.services.tickets.create(chat.id, "en", "current")
        for number in (old_ticket.id, open_ticket.id):
            await desk.services.tickets.add_message(TicketMessage(
                ticket_id=number, direction="resident", sender_id=chat.id, kind="text",
                text=f"message of {number}", source_message_id=number))
        tracker = rasa_events(settings, [("old", long_ago.timestamp()), ("new", time.time())])

        erased = await purge_older_than(store, settings.rasa_tracker_url, days=180)

        assert (erased.turns, erased.ticket_messages, erased.rasa_events) == (1, 1, 1)
        remaining = [t.text for t in await store.recent_turns(chat.id, 10)]
        assert remaining == ["new question"]
        assert [m.text for m in await desk.services.tickets.messages(open_ticket.id)] == [
            f"message of {open_ticket.id}"]
        assert senders(tracker) == ["new"]
