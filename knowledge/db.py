"""The knowledge base's tables: draft articles and their translations, every revision, and every
publication (the snapshots residents are served from).

The tables carry a `kb_` prefix because they share the help desk's database with the bot's and
the admin's own; helpdesk/migrations/ creates and changes them (helpdesk.schema).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from helpdesk.schema import upgrade


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ArticleRow(Base):
    __tablename__ = "kb_articles"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    last_reviewed: Mapped[dt.date] = mapped_column(Date)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sources: Mapped[list[str]] = mapped_column(JSON)
    #: The number of the article's latest revision; editors send it back to detect lost updates.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
    translations: Mapped[list[TranslationRow]] = relationship(
        back_populates="article", cascade="all, delete-orphan", lazy="selectin")


class TranslationRow(Base):
    """One language's text of an article. A language without a row is "missing"."""

    __tablename__ = "kb_translations"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    where: Mapped[str] = mapped_column("where_text", Text)
    questions: Mapped[list[str]] = mapped_column(JSON)
    #: The hash of the English text this translation was last reviewed against: when English
    #: changes, the hashes stop matching and the translation is stale.
    source_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    article: Mapped[ArticleRow] = relationship(back_populates="translations")


class RevisionRow(Base):
    """Every saved change, as a full snapshot of the article after it. No foreign key: the
    history of a deleted article stays, and rolling back to it brings the article back."""

    __tablename__ = "kb_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[str] = mapped_column(String(80), index=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    #: The article in export form (exchange.article_data), or null after a deletion.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PublicationRow(Base):
    """What residents are shown, version by version. The version is the primary key, so two
    staff publishing at once cannot both get the same number: one of them fails and retries."""

    __tablename__ = "kb_publications"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    published_by: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Every article as residents see it: `Article.model_dump(mode="json")`, validated.
    articles: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: article id → digest of its draft when published, to tell which drafts changed since.
    digests: Mapped[dict[str, str]] = mapped_column(JSON)


def create_engine(url: str) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    # The admin writes while the action server polls and the bot logs turns, all in one file:
    # WAL lets readers go on during a write, and a busy timeout makes writers queue, not fail.
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


async def create_schema(engine: AsyncEngine) -> None:
    await upgrade(engine)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
