"""Notices to subscribed residents, each in the resident's own language: the API the staff
admin calls (compose, review, send, follow progress) and the reminders use.

A notice has one text per language, each `curated` (written or checked by staff and sent as
is), `machine` (machine-translated, reviewed, sent with a label) or `draft` (machine-translated,
not yet reviewed: the notice cannot be sent). A resident whose language the notice lacks gets
English and Easy Japanese (`ja`), which every notice must therefore have.

Sending enqueues one outbox row per resident in a single transaction (bot/outbox.py delivers
them), so a notice is queued completely or not at all, and only once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot import texts
from bot.language import SERVED
from bot.outbox import (
    BLOCKED,
    CANCELLED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    STATUSES,
    UNKNOWN,
    OutboxMessage,
    utcnow,
)
from bot.store import Base, Store
from bot.subscriptions import DISASTER, GARBAGE, TOPICS, Recipient, Subscriptions

CURATED, MACHINE, DRAFT = "curated", "machine", "draft"
TEXT_STATUSES = (CURATED, MACHINE, DRAFT)
#: A notice's own states: composed, queued for delivery, or withdrawn before it was.
COMPOSING, QUEUED, WITHDRAWN = "composing", "queued", "withdrawn"
FALLBACK_LANGUAGES = ("en", "ja")
FALLBACK = "en+ja"
#: Each text's limit, so that even the English + Easy Japanese fallback with its headers fits
#: Telegram's 4,096 characters.
MAX_TEXT = 1800
PRIORITY = {DISASTER: 0, GARBAGE: 1}
DEFAULT_PRIORITY = 2


class NoticeError(ValueError):
    """A notice that cannot be created, changed or sent as asked (the message says why)."""


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default=COMPOSING)
    #: Garbage notices for some districts only; None: every subscriber of the topic.
    districts: Mapped[list[str] | None] = mapped_column(JSON)
    #: Who composed it (the admin's user name), or "reminders".
    created_by: Mapped[str] = mapped_column(String(64))
    #: Makes automatic notices idempotent ("garbage:<district>:<date>"); None for staff's.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class NoticeText(Base):
    __tablename__ = "notice_texts"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now(), onupdate=func.now())


@dataclass(frozen=True, slots=True)
class Text:
    """One language's text of a notice as staff enter it."""

    text: str
    status: str = CURATED


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    topic: str
    status: str
    districts: list[str] | None
    created_by: str
    created_at: dt.datetime
    queued_at: dt.datetime | None
    texts: dict[str, Text]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a notice's delivery stands; `in_doubt` = unknown (see bot/outbox.py)."""

    notice_id: int
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)
    first_sent_at: dt.datetime | None = None
    last_sent_at: dt.datetime | None = None

    @property
    def sent(self) -> int:
        return self.counts.get(SENT, 0)

    @property
    def pending(self) -> int:
        return self.counts.get(PENDING, 0) + self.counts.get(SENDING, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(FAILED, 0)

    @property
    def blocked(self) -> int:
        return self.counts.get(BLOCKED, 0)

    @property
    def in_doubt(self) -> int:
        return self.counts.get(UNKNOWN, 0)

    @property
    def done(self) -> bool:
        return self.pending == 0


def _check_texts(topic: str, notice_texts: Mapping[str, Text]) -> None:
    if topic not in TOPICS:
        raise NoticeError(f"unknown topic {topic!r}; one of {', '.join(TOPICS)}")
    for language, entry in notice_texts.items():
        if language not in SERVED:
            raise NoticeError(f"unknown language {language!r}")
        if entry.status not in TEXT_STATUSES:
            raise NoticeError(f"{language}: status must be one of {', '.join(TEXT_STATUSES)}")
        if not entry.text.strip():
            raise NoticeError(f"{language}: the text is empty")
        if len(entry.text) > MAX_TEXT:
            raise NoticeError(f"{language}: {len(entry.text)} characters, at most {MAX_TEXT}")


def _render_one(topic: str, language: str, entry: Text) -> str:
    parts = [texts.text(f"notice_header_{topic}", language), escape(entry.text.strip())]
    if entry.status == MACHINE:
        parts.append(f"<i>({texts.text('machine_translation_label', language)})</i>")
    return "\n".join(parts)


def render(topic: str, notice_texts: Mapping[str, Text], language: str) -> tuple[str, str]:
    """The message a resident of `language` gets, and the language(s) it is in."""
    if language in notice_texts:
        return _render_one(topic, language, notice_texts[language]), language
    fallback = [texts.text("notice_fallback", language)]
    fallback += [_render_one(topic, code, notice_texts[code]) for code in FALLBACK_LANGUAGES]
    return "\n\n".join(fallback), FALLBACK


class Broadcasts:
    """The admin's entry point. Every method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.subscriptions = Subscriptions(store)

    async def create_notice(self, topic: str, notice_texts: Mapping[str, Text],
                            created_by: str, districts: Sequence[str] | None = None,
                            dedupe_key: str | None = None) -> int:
        """A new notice (not yet sent); returns its id."""
        _check_texts(topic, notice_texts)
        if districts is not None and topic != GARBAGE:
            raise NoticeError("only garbage notices can be limited to districts")
        async with self.store.sessions.begin() as session:
            notice = Notice(topic=topic, status=COMPOSING, created_by=created_by,
                            districts=list(districts) if districts is not None else None,
                            dedupe_key=dedupe_key)
            session.add(notice)
            await session.flush()
            session.add_all(NoticeText(notice_id=notice.id, language=language, text=entry.text,
                                       status=entry.status)
                            for language, entry in notice_texts.items())
            return notice.id

    async def set_text(self, notice_id: int, language: str, entry: Text) -> None:
        """Adds or replaces one language's text (e.g. a reviewed machine draft) before sending."""
        async with self.store.sessions.begin() as session:
            notice = await self._composing(session, notice_id)
            _check_texts(notice.topic, {language: entry})
            row = await session.get(NoticeText, (notice_id, language))
            if row is None:
                session.add(NoticeText(notice_id=notice_id, language=language, text=entry.text,
                                       status=entry.status))
            else:
                row.text, row.status = entry.text, entry.status

    async def remove_text(self, notice_id: int, language: str) -> None:
        async with self.store.sessions.begin() as session:
            await self._composing(session, notice_id)
            row = await session.get(NoticeText, (notice_id, language))
            if row is not None:
                await session.delete(row)

    async def notice(self, notice_id: int) -> NoticeView | None:
        async with self.store.sessions() as session:
            notice = await session.get(Notice, notice_id)
            if notice is None:
                return None
            return NoticeView(notice.id, notice.topic, notice.status, notice.districts,
                              notice.created_by, notice.created_at, notice.queued_at,
                              await self._texts(session, notice_id))

    async def notices(self, limit: int = 50) -> list[NoticeView]:
        """The newest notices first."""
        async with self.store.sessions() as session:
            ids = list(await session.scalars(select(Notice.id).order_by(Notice.id.desc())
                                             .limit(limit)))
        return [view for i in ids if (view := await self.notice(i)) is not None]

    async def send(self, notice_id: int) -> int:
        """Queues the notice for every current subscriber of its topic (and districts), one
        outbox row each in the resident's language; returns how many. Only once per notice."""
        async with self.store.sessions.begin() as session:
            notice = await self._composing(session, notice_id)
            notice_texts = await self._texts(session, notice_id)
            drafts = sorted(code for code, entry in notice_texts.items() if entry.status == DRAFT)
            if drafts:
                raise NoticeError(f"machine drafts not yet reviewed: {', '.join(drafts)}")
            missing = [code for code in FALLBACK_LANGUAGES if code not in notice_texts]
            if missing:
                raise NoticeError(f"every notice needs {' and '.join(FALLBACK_LANGUAGES)} "
                                  f"(the fallback); missing: {', '.join(missing)}")
            recipients = await self.subscriptions.recipients(notice.topic, notice.districts,
                                                              session)
            await self._enqueue(session, notice, notice_texts, recipients)
            return len(recipients)

    async def create_and_send(self, topic: str, notice_texts: Mapping[str, Text],
                              created_by: str, districts: Sequence[str] | None = None,
                              dedupe_key: str | None = None) -> tuple[int, int] | None:
        """Both steps in one transaction (the reminders' way): (notice id, rows queued), or
        None when a notice with this dedupe_key already exists."""
        _check_texts(topic, notice_texts)
        async with self.store.sessions.begin() as session:
            if dedupe_key is not None and await session.scalar(
                    select(Notice.id).where(Notice.dedupe_key == dedupe_key)) is not None:
                return None
            notice = Notice(topic=topic, status=COMPOSING, created_by=created_by,
                            districts=list(districts) if districts is not None else None,
                            dedupe_key=dedupe_key)
            session.add(notice)
            await session.flush()
            session.add_all(NoticeText(notice_id=notice.id, language=language, text=entry.text,
                                       status=entry.status)
                            for language, entry in notice_texts.items())
            recipients = await self.subscriptions.recipients(topic, districts, session)
            await self._enqueue(session, notice, dict(notice_texts), recipients)
            return notice.id, len(recipients)

    async def withdraw(self, notice_id: int) -> int:
        """Stops a notice: rows not yet claimed are cancelled; returns how many."""
        async with self.store.sessions.begin() as session:
            notice = await session.get(Notice, notice_id)
            if notice is None:
                raise NoticeError(f"no notice {notice_id}")
            notice.status = WITHDRAWN
            result = await session.execute(sql_update(OutboxMessage).where(
                OutboxMessage.notice_id == notice_id, OutboxMessage.status == PENDING)
                .values(status=CANCELLED))
            return int(getattr(result, "rowcount", 0) or 0)

    async def resend_unknown(self, notice_id: int) -> int:
        """Staff's decision after a crash: send the in-doubt rows again, accepting that some of
        those residents may get the notice twice (e.g. for a disaster alert). Returns how many."""
        async with self.store.sessions.begin() as session:
            result = await session.execute(sql_update(OutboxMessage).where(
                OutboxMessage.notice_id == notice_id, OutboxMessage.status == UNKNOWN)
                .values(status=PENDING, claim=None, error=None))
            return int(getattr(result, "rowcount", 0) or 0)

    async def progress(self, notice_id: int) -> Progress:
        async with self.store.sessions() as session:
            counts = dict((await session.execute(
                select(OutboxMessage.status, func.count()).where(
                    OutboxMessage.notice_id == notice_id).group_by(OutboxMessage.status))).all())
            languages = dict((await session.execute(
                select(OutboxMessage.text_language, func.count()).where(
                    OutboxMessage.notice_id == notice_id)
                .group_by(OutboxMessage.text_language))).all())
            first, last = (await session.execute(
                select(func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at)).where(
                    OutboxMessage.notice_id == notice_id))).one()
        counts = {status: int(counts.get(status, 0)) for status in STATUSES}
        return Progress(notice_id, sum(counts.values()), counts,
                        {k: int(v) for k, v in languages.items()}, first, last)

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    async def _composing(session: AsyncSession, notice_id: int) -> Notice:
        notice = await session.get(Notice, notice_id)
        if notice is None:
            raise NoticeError(f"no notice {notice_id}")
        if notice.status != COMPOSING:
            raise NoticeError(f"notice {notice_id} is already {notice.status}")
        return notice

    @staticmethod
    async def _texts(session: AsyncSession, notice_id: int) -> dict[str, Text]:
        rows = await session.scalars(select(NoticeText).where(NoticeText.notice_id == notice_id))
        return {row.language: Text(row.text, row.status) for row in rows}

    @staticmethod
    async def _enqueue(session: AsyncSession, notice: Notice, notice_texts: Mapping[str, Text],
                       recipients: Sequence[Recipient]) -> None:
        rendered: dict[str, tuple[str, str]] = {}
        rows = []
        for recipient in recipients:
            if recipient.language not in rendered:
                rendered[recipient.language] = render(notice.topic, notice_texts,
                                                      recipient.language)
            text, text_language = rendered[recipient.language]
            rows.append({"notice_id": notice.id, "chat_id": recipient.chat_id,
                         "language": recipient.language, "text_language": text_language,
                         "text": text, "status": PENDING, "attempts": 0,
                         "priority": PRIORITY.get(notice.topic, DEFAULT_PRIORITY)})
        if rows:
            await session.execute(insert(OutboxMessage), rows)
        notice.status, notice.queued_at = QUEUED, utcnow()
