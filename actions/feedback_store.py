"""Residents' 👍 / 👎 on knowledge-base answers, in the help desk's database.

The Alembic migrations (helpdesk/schema.py, helpdesk/migrations/) create the table, so a change
here needs a new revision. No rasa-sdk here: the admin and /forget read this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import BigInteger, DateTime, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from helpdesk.schema import shared_engine, upgrade

Rating = Literal["up", "down"]
UP: Rating = "up"
DOWN: Rating = "down"


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AnswerFeedback(Base):
    """One resident's rating of one answer. An answer is an article shown to a chat at a moment
    (`answered_at`, Rasa's timestamp of the reply): pressing again rewrites the same row."""

    __tablename__ = "answer_feedback"
    __table_args__ = (UniqueConstraint("chat_id", "article_id", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    article_id: Mapped[str] = mapped_column(String(80), index=True)
    language: Mapped[str] = mapped_column(String(8))
    rating: Mapped[str] = mapped_column(String(8))
    #: The question the answer replied to, redacted (helpdesk.redact); empty when unknown.
    question: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  index=True)


@dataclass(frozen=True, slots=True)
class Rated:
    chat_id: int
    article_id: str
    language: str
    rating: Rating
    question: str
    answered_at: dt.datetime


class FeedbackStore:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = shared_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._schema_ready = False

    async def create_schema(self) -> None:
        await upgrade(self.engine)
        self._schema_ready = True

    async def _ensure_schema(self) -> None:
        # Whichever process opens the database first migrates it (the others find it current).
        if not self._schema_ready:
            await self.create_schema()

    async def close(self) -> None:
        await self.engine.dispose()

    async def record(self, rated: Rated) -> AnswerFeedback:
        """Inserts the rating, or updates it when this answer was rated before."""
        await self._ensure_schema()
        try:
            return await self._upsert(rated)
        except IntegrityError:
            # Two presses raced past the lookup; the second now finds the first's row.
            return await self._upsert(rated)

    async def _upsert(self, rated: Rated) -> AnswerFeedback:
        async with self.sessions.begin() as session:
            row = await session.scalar(select(AnswerFeedback).where(
                AnswerFeedback.chat_id == rated.chat_id,
                AnswerFeedback.article_id == rated.article_id,
                AnswerFeedback.answered_at == rated.answered_at))
            if row is None:
                row = AnswerFeedback(chat_id=rated.chat_id, article_id=rated.article_id,
                                     answered_at=rated.answered_at)
                session.add(row)
            row.language = rated.language
            row.rating = rated.rating
            row.question = rated.question
            row.rated_at = utcnow()
        return row

    async def for_chat(self, chat_id: int) -> list[AnswerFeedback]:
        await self._ensure_schema()
        async with self.sessions() as session:
            return list(await session.scalars(select(AnswerFeedback).where(
                AnswerFeedback.chat_id == chat_id).order_by(AnswerFeedback.id)))
