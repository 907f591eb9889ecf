"""Handoff tickets and their messages, in the bot's database so they survive restarts.

A ticket is `queued` until a counselor first answers, then `open`, then `closed`. While it is
queued or open ("active"), the resident's messages go to its forum topic instead of to Rasa.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.store import Base, Store

QUEUED, OPEN, CLOSED = "queued", "open", "closed"
ACTIVE = (QUEUED, OPEN)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back without their zone; everything here is written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


class Ticket(Base):
    __tablename__ = "tickets"

    #: The ticket number counselors and residents see.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), index=True, default=QUEUED)
    topic_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the waiting ticket was last flagged again in its topic.
    flagged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    counselor_id: Mapped[int | None] = mapped_column(BigInteger)
    counselor_name: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    close_note: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)


class TicketMessage(Base):
    """One relayed message. Text is redacted like the turns table: Telegram keeps the original."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    direction: Mapped[str] = mapped_column(String(16))  # "resident" | "counselor"
    sender_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # "text", "photo", "document", …
    text: Mapped[str | None] = mapped_column(Text)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    relayed_message_id: Mapped[int | None] = mapped_column(BigInteger)
    machine_translated: Mapped[bool] = mapped_column(Boolean, default=False)


class Tickets:
    """Reads and writes tickets through the bot's Store (same engine, same sessions)."""

    def __init__(self, store: Store) -> None:
        self.sessions = store.sessions

    async def create(self, chat_id: int, language: str, subject: str) -> Ticket:
        async with self.sessions.begin() as session:
            ticket = Ticket(chat_id=chat_id, language=language, subject=subject, status=QUEUED,
                            created_at=utcnow())
            session.add(ticket)
        return ticket

    async def get(self, number: int) -> Ticket | None:
        async with self.sessions() as session:
            return await session.get(Ticket, number)

    async def update(self, number: int, **fields: Any) -> Ticket:
        async with self.sessions.begin() as session:
            ticket = await session.get(Ticket, number)
            if ticket is None:
                raise LookupError(f"no ticket {number}")
            for key, value in fields.items():
                setattr(ticket, key, value)
        return ticket

    async def active_for_chat(self, chat_id: int) -> Ticket | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(Ticket).where(Ticket.chat_id == chat_id, Ticket.status.in_(ACTIVE))
                .order_by(Ticket.id.desc()).limit(1))

    async def for_topic(self, topic_id: int) -> Ticket | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(Ticket).where(Ticket.topic_id == topic_id)
                .order_by(Ticket.id.desc()).limit(1))

    async def active(self) -> list[Ticket]:
        async with self.sessions() as session:
            return list(await session.scalars(
                select(Ticket).where(Ticket.status.in_(ACTIVE)).order_by(Ticket.created_at)))

    async def add_message(self, message: TicketMessage) -> None:
        async with self.sessions.begin() as session:
            session.add(message)

    async def messages(self, number: int) -> list[TicketMessage]:
        async with self.sessions() as session:
            return list(await session.scalars(
                select(TicketMessage).where(TicketMessage.ticket_id == number)
                .order_by(TicketMessage.id)))
