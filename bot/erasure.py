"""Deleting what the help desk stores about residents: on request (/forget) and by age.

What is stored per resident: their language settings, the record of each answered message
(redacted), their conversation in Rasa's tracker store, the inbox rows of their updates, their
notice subscriptions and deliveries, their ratings of answers, and the messages of their
counselor tickets. Tickets
themselves stay, without subject or messages, so the city's counts of handoffs and waiting
times still add up.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from actions.feedback_store import AnswerFeedback
from bot.conversation import rasa_sender
from bot.inbox import DONE, FAILED, InboxUpdate
from bot.outbox import OutboxMessage
from bot.store import Resident, Store, Turn
from bot.subscriptions import Subscription
from bot.tickets import CLOSED, Ticket, TicketMessage

ERASED = "[erased at the resident's request]"


@dataclass(frozen=True, slots=True)
class Erased:
    turns: int
    ticket_messages: int
    rasa_events: int


async def erase_resident(store: Store, rasa_tracker_url: str | None, chat_id: int) -> Erased:
    """Everything stored about one chat; an open ticket is closed (its topic stays for staff)."""
    now = dt.datetime.now(dt.UTC)
    async with store.sessions.begin() as session:
        tickets = list(await session.scalars(select(Ticket.id).where(Ticket.chat_id == chat_id)))
        messages = await session.execute(
            delete(TicketMessage).where(TicketMessage.ticket_id.in_(tickets)))
        await session.execute(
            update(Ticket).where(Ticket.chat_id == chat_id, Ticket.status != CLOSED)
            .values(status=CLOSED, closed_at=now, close_note=ERASED))
        await session.execute(update(Ticket).where(Ticket.chat_id == chat_id)
                              .values(subject=ERASED))
        turns = await session.execute(delete(Turn).where(Turn.chat_id == chat_id))
        await session.execute(delete(Resident).where(Resident.chat_id == chat_id))
        # Notices already delivered then count one resident fewer in their progress.
        await session.execute(delete(Subscription).where(Subscription.chat_id == chat_id))
        await session.execute(delete(AnswerFeedback).where(AnswerFeedback.chat_id == chat_id))
        await session.execute(delete(OutboxMessage).where(OutboxMessage.chat_id == chat_id))
        # The update being handled right now is emptied when it finishes, like every other.
        await session.execute(delete(InboxUpdate).where(InboxUpdate.chat_key == chat_id,
                                                        InboxUpdate.state.in_((DONE, FAILED))))
    events = await _delete_rasa_events(rasa_tracker_url, "sender_id = :sender",
                                       {"sender": rasa_sender(chat_id)})
    return Erased(turns.rowcount or 0, messages.rowcount or 0, events)


async def purge_older_than(store: Store, rasa_tracker_url: str | None, days: int) -> Erased:
    """The retention rule: conversations older than `days` go, closed tickets' messages too."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    async with store.sessions.begin() as session:
        turns = await session.execute(delete(Turn).where(Turn.created_at < cutoff))
        await session.execute(delete(AnswerFeedback).where(AnswerFeedback.rated_at < cutoff))
        old_tickets = select(Ticket.id).where(Ticket.status == CLOSED, Ticket.closed_at < cutoff)
        messages = await session.execute(
            delete(TicketMessage).where(TicketMessage.ticket_id.in_(old_tickets)))
        await session.execute(delete(InboxUpdate).where(
            InboxUpdate.state.in_((DONE, FAILED)),
            InboxUpdate.finished_ms < int(time.time() * 1000) - days * 86_400_000))
    events = await _delete_rasa_events(rasa_tracker_url, "timestamp < :cutoff",
                                       {"cutoff": cutoff.timestamp()})
    return Erased(turns.rowcount or 0, messages.rowcount or 0, events)


async def _delete_rasa_events(url: str | None, where: str, params: dict[str, object]) -> int:
    """Rasa's HTTP API cannot delete a conversation, so its SQL tracker store is cleaned directly
    (the table and columns of rasa.core.tracker_store.SQLTrackerStore)."""
    if not url:
        return 0
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            exists = await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, "events"))
            if not exists:  # Rasa has not stored a conversation yet
                return 0
            result = await connection.execute(text(f"DELETE FROM events WHERE {where}"), params)
            return result.rowcount or 0
    finally:
        await engine.dispose()
