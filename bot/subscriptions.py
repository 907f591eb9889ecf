"""Who wants which proactive notices: disaster alerts, garbage-day reminders, city news."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, DateTime, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store import Base, Resident, Store

DISASTER, GARBAGE, NEWS = "disaster", "garbage", "news"
TOPICS = (DISASTER, GARBAGE, NEWS)


class Subscription(Base):
    __tablename__ = "subscriptions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    disaster: Mapped[bool] = mapped_column(Boolean, default=False)
    garbage: Mapped[bool] = mapped_column(Boolean, default=False)
    news: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The garbage calendar's district id (bot/garbage_calendar.py).
    district: Mapped[str | None] = mapped_column(String(64))
    #: The language the bot used when they subscribed; only for residents who never wrote
    #: a question, so that `residents` knows no language for them.
    language: Mapped[str | None] = mapped_column(String(8))
    #: Telegram answered "bot was blocked by the user": nothing is sent until they come back.
    blocked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now(), onupdate=func.now())

    def wants(self, topic: str) -> bool:
        return bool(getattr(self, topic))


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    language: str


def resident_language(resident: Resident | None, subscription: Subscription) -> str:
    """The resident's own choice, else their conversation's, else what they subscribed in."""
    if resident is not None and (resident.chosen_language or resident.conversation_language):
        return resident.chosen_language or resident.conversation_language or "en"
    return subscription.language or "en"


class Subscriptions:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, chat_id: int) -> Subscription | None:
        async with self.store.sessions() as session:
            return await session.get(Subscription, chat_id)

    async def set(self, chat_id: int, language: str, **fields: object) -> Subscription:
        """Changes some fields (topics, district); subscribing again also lifts a block, since
        only a resident who unblocked the bot can press its buttons."""
        async with self.store.sessions.begin() as session:
            row = await session.get(Subscription, chat_id)
            if row is None:
                row = Subscription(chat_id=chat_id, disaster=False, garbage=False, news=False)
                session.add(row)
            for key, value in fields.items():
                setattr(row, key, value)
            row.language, row.blocked_at = language, None
        return row

    async def unsubscribe_all(self, chat_id: int) -> bool:
        """False when there was nothing to undo."""
        async with self.store.sessions.begin() as session:
            row = await session.get(Subscription, chat_id)
            if row is None or not (row.disaster or row.garbage or row.news):
                return False
            row.disaster = row.garbage = row.news = False
            return True

    async def mark_blocked(self, chat_ids: Sequence[int], when: dt.datetime) -> None:
        if not chat_ids:
            return
        async with self.store.sessions.begin() as session:
            await session.execute(update(Subscription).where(
                Subscription.chat_id.in_(chat_ids)).values(blocked_at=when))

    async def recipients(self, topic: str, districts: Sequence[str] | None = None,
                         session: AsyncSession | None = None) -> list[Recipient]:
        """Everyone subscribed to `topic` and not blocked, each with their language; garbage
        notices can be limited to some districts."""
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}")
        query = (select(Subscription, Resident)
                 .outerjoin(Resident, Resident.chat_id == Subscription.chat_id)
                 .where(getattr(Subscription, topic).is_(True),
                        Subscription.blocked_at.is_(None))
                 .order_by(Subscription.chat_id))
        if districts is not None:
            query = query.where(Subscription.district.in_(list(districts)))
        if session is not None:  # inside the caller's transaction
            rows = (await session.execute(query)).all()
        else:
            async with self.store.sessions() as own:
                rows = (await own.execute(query)).all()
        return [Recipient(sub.chat_id, resident_language(resident, sub))
                for sub, resident in rows]
