"""The audit log: every change made through the admin, with who made it and a short summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import AuditEntry, User

#: Long texts are cut in the summary; the knowledge base keeps full revisions itself.
SUMMARY_CHARS = 500


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SUMMARY_CHARS:
        return value[:SUMMARY_CHARS] + "…"
    if isinstance(value, dict):
        return {key: _short(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_short(item) for item in value]
    return value


def record(session: AsyncSession, who: User | None, action: str, target: str = "",
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           username: str | None = None) -> None:
    """Adds an entry to `session`; it is written with the change it describes, or not at all."""
    session.add(AuditEntry(user_id=who.id if who else None,
                           username=who.username if who else (username or "-"), action=action,
                           target=target, before=_short(before), after=_short(after)))


async def recent(session: AsyncSession, limit: int = 200,
                 action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(await session.scalars(query))
