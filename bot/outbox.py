"""Delivers queued notices, one database row per resident, within Telegram's limits.

Exactly-once and crashes. A row goes `pending` → `sending` (claimed: committed before the
request leaves) → `sent`, `blocked`, `failed`, or back to `pending` when Telegram refused it
outright (429, or the connection never opened). A crash between Telegram accepting a message
and our commit leaves the row `sending`; Telegram cannot be asked afterwards whether it arrived.
Such a row is *not* sent again: it becomes `unknown` once its lease has run out, and progress
counts it separately so that staff can decide (`Broadcasts.resend_unknown`).

Why not resend: the claim is committed immediately before the request is written, while the
outcome is recorded only after Telegram's answer has travelled back, so nearly all of an
in-doubt row's time is spent after the message left. A row claimed but never sent (a crash in
the sub-millisecond gap before the write) is the rare loss this choice accepts; resending
would instead duplicate almost every in-doubt row. At most `workers` rows can be in doubt.

Limits. One pacer spaces all messages `1/rate` apart (Telegram: about 30 per second per bot)
and pauses everything for `retry_after` on a 429. The bot's replies go through the
Application's own AIORateLimiter, which knows nothing of this sender, so the default rate stays
below Telegram's ceiling to leave them room. A chat that got a message in the last
`per_chat_interval_s` is skipped for now (Telegram: about one per second per chat).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.pacer import Pacer
from bot.store import Base, Store
from bot.subscriptions import Subscription
from helpdesk.logs import configure_logging
from helpdesk.settings import EMULATOR_BOT_TOKEN, BroadcastSettings, Settings

log = structlog.get_logger(__name__)

PENDING, SENDING, SENT = "pending", "sending", "sent"
BLOCKED, FAILED, UNKNOWN, CANCELLED = "blocked", "failed", "unknown", "cancelled"
STATUSES = (PENDING, SENDING, SENT, BLOCKED, FAILED, UNKNOWN, CANCELLED)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("notice_id", "chat_id"),
                      Index("ix_outbox_next", "status", "priority", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    #: The resident's language, and the text's ("en+ja" when the notice lacked theirs).
    language: Mapped[str] = mapped_column(String(8))
    text_language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    #: Lower goes first: disaster alerts overtake reminders and news.
    priority: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    #: Which attempt holds the row; an outcome is recorded only by the attempt that claimed it.
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    text: str
    claim: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    message_id: int | None = None
    error: str | None = None


SendFunction = Callable[[int, str], Awaitable[int]]


def bot_sender(bot: Bot) -> SendFunction:
    async def send(chat_id: int, text: str) -> int:
        message = await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                         link_preview_options=LinkPreviewOptions(is_disabled=True))
        return message.message_id
    return send


def outbox_bot(token: str, base_url: str | None, workers: int) -> Bot:
    """A Bot of its own, without the Application's rate limiter, whose silent retries would
    hide Telegram's 429s from the pacer."""
    request = HTTPXRequest(connection_pool_size=workers + 2, read_timeout=20.0)
    if base_url is None:
        return Bot(token, request=request)
    return Bot(token, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot",
               request=request)


def _seconds(retry_after: float | dt.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) \
        else float(retry_after)


class OutboxSender:
    def __init__(self, store: Store, send: SendFunction,
                 settings: BroadcastSettings | None = None) -> None:
        self.store, self.send = store, send
        self.settings = settings or BroadcastSettings()
        self.pacer = Pacer(self.settings.rate_per_s)
        self._recent: dict[int, float] = {}
        self._stopping = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._last_settle = 0.0

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, until_empty: bool = False) -> None:
        """Sends until stopped (or, with `until_empty`, until nothing is left to send)."""
        await self.settle_stale()
        workers = [asyncio.create_task(self._work(until_empty), name=f"outbox-{i}")
                   for i in range(self.settings.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()

    def stop(self) -> None:
        """Workers finish the message in hand (recording its outcome) and return."""
        self._stopping.set()

    async def _work(self, until_empty: bool) -> None:
        while not self._stopping.is_set():
            await self.pacer.wait()
            if self._stopping.is_set():
                return
            try:
                row = await self.claim()
                if row is None:
                    if until_empty and await self.remaining() == 0:
                        return
                    await self._idle(until_empty)
                    await self._maybe_settle()
                    continue
                outcome = await self.deliver(row)
                # Counted from Telegram's answer, which comes after it counted the message.
                self._recent[row.chat_id] = time.monotonic()
                await self.record(row, outcome)
            except SQLAlchemyError as error:
                # The database is busy or gone; a row left `sending` becomes `unknown`, so
                # nothing is sent twice. Wait and go on rather than end the sender.
                log.error("outbox_database_error", error=repr(error))
                await self._idle(until_empty)

    async def _idle(self, until_empty: bool) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._idle_wait(until_empty))

    def _idle_wait(self, until_empty: bool) -> float:
        # Rows held back only by the per-chat interval become free within it.
        return min(self.settings.idle_poll_s, self.settings.per_chat_interval_s) \
            if until_empty else self.settings.idle_poll_s

    # -- the steps --------------------------------------------------------------------------

    async def claim(self) -> Claimed | None:
        """Takes the next pending row, committing the claim before anything is sent."""
        # One claim at a time, so that each sees the chats the one before it took.
        async with self._claiming:
            return await self._claim()

    async def _claim(self) -> Claimed | None:
        now = time.monotonic()
        self._recent = {c: t for c, t in self._recent.items()
                        if now - t < self.settings.per_chat_interval_s}
        token = secrets.token_hex(8)
        candidates = (select(OutboxMessage.id)
                      .where(OutboxMessage.status == PENDING,
                             OutboxMessage.chat_id.not_in(list(self._recent)))
                      .order_by(OutboxMessage.priority, OutboxMessage.id).limit(1))
        # A read first: an idle sender must not take SQLite's write lock every poll.
        async with self.store.sessions() as session:
            if await session.scalar(candidates) is None:
                return None
        next_row = candidates.with_for_update(skip_locked=True).scalar_subquery()
        statement = (update(OutboxMessage)
                     .where(OutboxMessage.id == next_row, OutboxMessage.status == PENDING)
                     .values(status=SENDING, claim=token, claimed_at=utcnow(),
                             attempts=OutboxMessage.attempts + 1)
                     .returning(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.text,
                                OutboxMessage.attempts))
        async with self.store.engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            return None
        self._recent[row.chat_id] = time.monotonic()
        return Claimed(row.id, row.chat_id, row.text, token, row.attempts)

    async def deliver(self, row: Claimed) -> Outcome:
        try:
            message_id = await self.send(row.chat_id, row.text)
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            self.pacer.pause(wait)
            log.warning("outbox_retry_after", retry_after=wait)
            return self._refused(row, f"retry after {wait:g} s")
        except Forbidden as error:
            # Blocked, deactivated, or never started the bot: sending again cannot help.
            return Outcome(BLOCKED, error=error.message[:200])
        except BadRequest as error:
            return Outcome(FAILED, error=error.message[:200])
        except TimedOut as error:
            if "not* sent" in error.message:  # the connection pool never gave a connection
                return self._refused(row, "pool timeout")
            return Outcome(UNKNOWN, error=f"timed out: {error.message}"[:200])
        except NetworkError as error:
            if "ConnectError" in error.message or "ConnectTimeout" in error.message:
                return self._refused(row, error.message)
            return Outcome(UNKNOWN, error=error.message[:200])
        except TelegramError as error:
            return Outcome(FAILED, error=error.message[:200])
        return Outcome(SENT, message_id=message_id)

    def _refused(self, row: Claimed, reason: str) -> Outcome:
        """Telegram never took the message: try again, within limits."""
        if row.attempts >= self.settings.max_attempts:
            return Outcome(FAILED, error=f"gave up after {row.attempts} attempts: {reason}"[:200])
        return Outcome(PENDING, error=reason[:200])

    async def record(self, row: Claimed, outcome: Outcome) -> None:
        values: dict[str, object] = {"status": outcome.status, "error": outcome.error}
        if outcome.status == SENT:
            values.update(sent_at=utcnow(), message_id=outcome.message_id)
        elif outcome.status == PENDING:
            values.update(claim=None)
        async with self.store.sessions.begin() as session:
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id == row.id, OutboxMessage.claim == row.claim).values(**values))
            if outcome.status == BLOCKED:
                await session.execute(update(Subscription).where(
                    Subscription.chat_id == row.chat_id).values(blocked_at=utcnow()))
                await session.execute(update(OutboxMessage).where(
                    OutboxMessage.chat_id == row.chat_id, OutboxMessage.status == PENDING)
                    .values(status=BLOCKED, error="the resident blocked the bot"))
        if outcome.status != SENT:
            log.info("outbox_outcome", row=row.id, chat_id=row.chat_id, status=outcome.status,
                     error=outcome.error)

    async def remaining(self) -> int:
        async with self.store.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxMessage)
                                            .where(OutboxMessage.status == PENDING)) or 0)

    async def settle_stale(self) -> int:
        """Rows claimed longer than a lease ago whose outcome never came: `unknown`."""
        cutoff = utcnow() - dt.timedelta(seconds=self.settings.lease_s)
        async with self.store.sessions.begin() as session:
            result = await session.execute(
                update(OutboxMessage).where(OutboxMessage.status == SENDING,
                                            OutboxMessage.claimed_at <= cutoff)
                .values(status=UNKNOWN, error="sender stopped before Telegram's answer arrived"))
        settled = int(getattr(result, "rowcount", 0) or 0)
        if settled:
            log.warning("outbox_in_doubt", rows=settled)
        return settled

    async def _maybe_settle(self) -> None:
        now = time.monotonic()
        if now - self._last_settle >= self.settings.lease_s / 4:
            self._last_settle = now
            await self.settle_stale()


async def drain(settings: BroadcastSettings, db_url: str, token: str,
                base_url: str | None) -> None:
    """Sends everything pending, then returns: the sender without the bot (after a crash, from
    cron, in tests and benchmarks)."""
    store = Store(db_url)
    await store.create_schema()
    bot = outbox_bot(token, base_url, settings.workers)
    await bot.initialize()
    try:
        await OutboxSender(store, bot_sender(bot), settings).run(until_empty=True)
    finally:
        await bot.shutdown()
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.outbox",
                                     description="Send every pending notice, then exit.")
    parser.add_argument("--emulator-url", help="send to the Bot API emulator at this URL "
                        "instead of the configured Telegram")
    args = parser.parse_args()
    settings = Settings()
    configure_logging(settings.log_level)
    if args.emulator_url:
        token, base_url = EMULATOR_BOT_TOKEN, args.emulator_url
    else:
        token = settings.bot_token
        base_url = settings.web_url if settings.emulated else None
    asyncio.run(drain(settings.broadcast, settings.db_url, token, base_url))


if __name__ == "__main__":
    main()
