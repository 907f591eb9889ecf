"""Every update is stored before Telegram hears "received", then handled from the database.

Why: Telegram forgets an update once the webhook answers 200 (or the next getUpdates moves the
offset). Storing first means a crash loses nothing; the update_id primary key drops Telegram's
redeliveries; and handling each chat's oldest unfinished update first keeps a resident's replies
in order, even with several bot replicas claiming work from one database.

A claim is a lease: a replica that dies mid-update stops renewing it, and the update goes to
whoever claims next once the lease runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, aliased, mapped_column

from bot.store import Base, Store

PENDING, WORKING, DONE, FAILED = "pending", "working", "done", "failed"
UNFINISHED = (PENDING, WORKING)


def now_ms() -> int:
    return int(time.time() * 1000)


class InboxUpdate(Base):
    __tablename__ = "inbox_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: The chat (else the user) whose updates must be handled one at a time, in order.
    chat_key: Mapped[int] = mapped_column(BigInteger, index=True)
    #: The update as Telegram sent it; emptied once handled, so the inbox keeps no message text.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_ms: Mapped[int] = mapped_column(BigInteger, default=now_ms)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    finished_ms: Mapped[int | None] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class Claimed:
    update_id: int
    chat_key: int
    payload: dict[str, Any]
    #: 1 on the first try; more means an earlier try died part-way (it may have answered).
    attempt: int


def chat_key(payload: dict[str, Any]) -> int:
    """The chat an update belongs to, read from Telegram's JSON (0 when it has none)."""
    for key, value in payload.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                chat_id = holder["chat"].get("id")
                if isinstance(chat_id, int):
                    return chat_id
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return sender["id"]
    return 0


class Inbox:
    def __init__(self, store: Store, *, lease_ms: int = 15_000, max_attempts: int = 3) -> None:
        self.store = store
        self.lease_ms = lease_ms
        self.max_attempts = max_attempts

    async def accept(self, payload: dict[str, Any]) -> bool:
        """Stores an update; False when it was here already (a redelivery)."""
        row = {"update_id": int(payload["update_id"]), "chat_key": chat_key(payload),
               "payload": payload, "state": PENDING, "attempts": 0,
               "received_ms": now_ms(), "lease_until_ms": 0}
        dialect = self.store.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(InboxUpdate).values(**row).on_conflict_do_nothing(
            index_elements=["update_id"])
        async with self.store.sessions.begin() as session:
            result = await session.execute(statement)
        return bool(result.rowcount)

    async def claim(self, owner: str, limit: int) -> list[Claimed]:
        """Leases up to `limit` updates, each the oldest unfinished one of its chat."""
        now = now_ms()
        older = aliased(InboxUpdate)
        earlier_unfinished = (select(older.update_id)
                              .where(older.chat_key == InboxUpdate.chat_key,
                                     older.update_id < InboxUpdate.update_id,
                                     older.state.in_(UNFINISHED)).exists())
        claimable = or_(InboxUpdate.state == PENDING,
                        and_(InboxUpdate.state == WORKING, InboxUpdate.lease_until_ms < now))
        async with self.store.sessions() as session:
            candidates = list(await session.scalars(
                select(InboxUpdate.update_id).where(claimable, ~earlier_unfinished)
                .order_by(InboxUpdate.update_id).limit(limit)))
        claimed = []
        for update_id in candidates:
            # Another replica may take the same row between our read and this write; the
            # guarded update lets exactly one of us win it.
            async with self.store.sessions.begin() as session:
                won = await session.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id == update_id, claimable)
                    .values(state=WORKING, lease_owner=owner, lease_until_ms=now + self.lease_ms,
                            attempts=InboxUpdate.attempts + 1)
                    .returning(InboxUpdate.chat_key, InboxUpdate.payload, InboxUpdate.attempts))
                row = won.first()
            if row is not None:
                claimed.append(Claimed(update_id, row.chat_key, row.payload, row.attempts))
        return claimed

    async def renew(self, owner: str, update_ids: list[int]) -> None:
        if not update_ids:
            return
        async with self.store.sessions.begin() as session:
            await session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id.in_(update_ids), InboxUpdate.lease_owner == owner,
                       InboxUpdate.state == WORKING)
                .values(lease_until_ms=now_ms() + self.lease_ms))

    async def finish(self, update_id: int, *, failed: bool = False) -> None:
        async with self.store.sessions.begin() as session:
            await session.execute(
                update(InboxUpdate).where(InboxUpdate.update_id == update_id)
                .values(state=FAILED if failed else DONE, payload={}, lease_owner=None,
                        finished_ms=now_ms()))

    async def release(self, update_id: int) -> bool:
        """Returns an update that raised to the queue; gives up (False) after max_attempts."""
        async with self.store.sessions() as session:
            attempts = await session.scalar(
                select(InboxUpdate.attempts).where(InboxUpdate.update_id == update_id))
        if attempts is not None and attempts >= self.max_attempts:
            await self.finish(update_id, failed=True)
            return False
        async with self.store.sessions.begin() as session:
            await session.execute(
                update(InboxUpdate).where(InboxUpdate.update_id == update_id)
                .values(state=PENDING, lease_owner=None, lease_until_ms=0))
        return True

    async def counts(self) -> dict[str, int]:
        async with self.store.sessions() as session:
            rows = await session.execute(
                select(InboxUpdate.state, func.count()).group_by(InboxUpdate.state))
            return {state: count for state, count in rows.all()}

    async def purge_finished(self, older_than_ms: int) -> int:
        """Drops finished rows; keep them longer than Telegram redelivers (about a day)."""
        async with self.store.sessions.begin() as session:
            result = await session.execute(
                delete(InboxUpdate).where(InboxUpdate.state.in_((DONE, FAILED)),
                                          InboxUpdate.finished_ms < now_ms() - older_than_ms))
        return result.rowcount or 0
