"""Login rate limiting, per username and per client address, from the recorded attempts.

Attempts are rows in the database, so the limit holds across restarts and across processes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.models import LoginAttempt, utcnow


@dataclass(frozen=True)
class LoginLimits:
    per_username: int
    per_address: int
    window_s: float


async def blocked(session: AsyncSession, limits: LoginLimits, username: str,
                  address: str) -> bool:
    """Too many failed logins lately for this account or from this address."""
    since = utcnow() - dt.timedelta(seconds=limits.window_s)
    failed = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
    by_name = await session.scalar(failed.where(LoginAttempt.username == username))
    by_address = await session.scalar(failed.where(LoginAttempt.address == address))
    return (by_name or 0) >= limits.per_username or (by_address or 0) >= limits.per_address


def note(session: AsyncSession, username: str, address: str, succeeded: bool) -> None:
    session.add(LoginAttempt(username=username[:64], address=address[:64], succeeded=succeeded))


async def forget_before(session: AsyncSession, moment: dt.datetime) -> None:
    """Drops attempts older than any window; the audit log keeps the record of failures."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < moment))
