"""What the bot remembers: each resident's language, and a record of every answered turn."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from helpdesk.schema import upgrade


class Base(DeclarativeBase):
    pass


class Resident(Base):
    __tablename__ = "residents"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: The resident's own /language choice; it wins over everything detected.
    chosen_language: Mapped[str | None] = mapped_column(String(8))
    #: The language the conversation settled on, kept when a message is too short to tell.
    conversation_language: Mapped[str | None] = mapped_column(String(8))
    telegram_language_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now(), onupdate=func.now())


class Turn(Base):
    """One resident message and what the help desk did with it (text redacted)."""

    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    articles: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer_language: Mapped[str] = mapped_column(String(8))
    machine_translated: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    latency_ms: Mapped[float] = mapped_column(Float)


class Store:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_schema(self) -> None:
        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def resident(self, chat_id: int) -> Resident | None:
        async with self.sessions() as session:
            return await session.get(Resident, chat_id)

    async def update_resident(self, chat_id: int, **fields: Any) -> None:
        async with self.sessions.begin() as session:
            resident = await session.get(Resident, chat_id)
            if resident is None:
                session.add(Resident(chat_id=chat_id, **fields))
            else:
                for key, value in fields.items():
                    setattr(resident, key, value)

    async def add_turn(self, turn: Turn) -> None:
        async with self.sessions.begin() as session:
            session.add(turn)

    async def recent_turns(self, chat_id: int, limit: int) -> list[Turn]:
        """The chat's last `limit` turns, oldest first."""
        async with self.sessions() as session:
            newest = await session.scalars(select(Turn).where(Turn.chat_id == chat_id)
                                           .order_by(Turn.id.desc()).limit(limit))
            return list(reversed(list(newest)))

    async def turn_for_update(self, update_id: int) -> Turn | None:
        async with self.sessions() as session:
            return await session.scalar(select(Turn).where(Turn.update_id == update_id))
