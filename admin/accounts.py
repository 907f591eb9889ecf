"""Accounts and sign-in: users, their server-side sessions and CSRF tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin import audit, passwords, ratelimit
from admin.models import LoginSession, Role, User, aware, utcnow


class AccountError(ValueError):
    """A refused account change, with a message fit to show the admin."""


@dataclass
class SignIn:
    user: User | None
    token: str | None = None
    rate_limited: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_new(username: str, role: str, password: str | None) -> None:
    if not username or len(username) > 64 or not username.replace("-", "").replace(
            "_", "").replace(".", "").isalnum():
        raise AccountError("Usernames are letters, digits, '.', '-' and '_' (at most 64).")
    if role not in set(Role):
        raise AccountError(f"Unknown role {role!r}.")
    if password is not None and (reason := passwords.weakness(password)):
        raise AccountError(f"The password needs {reason}.")


async def create_user(session: AsyncSession, by: User | None, username: str, password: str,
                      role: str, display_name: str = "") -> User:
    username = username.strip()
    check_new(username, role, password)
    if await session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"The username {username!r} is taken.")
    user = User(username=username, display_name=display_name.strip(), role=role,
                password_hash=passwords.hash_password(password), active=True)
    session.add(user)
    await session.flush()
    audit.record(session, by, "user.create", f"user:{username}", None,
                 {"role": role, "display_name": user.display_name}, username="make create-admin")
    return user


async def update_user(session: AsyncSession, by: User, user: User, *, role: str,
                      active: bool, display_name: str, password: str | None) -> None:
    check_new(user.username, role, password or None)
    if user.id == by.id and (role != Role.ADMIN or not active):
        raise AccountError("You cannot remove your own admin role or disable yourself.")
    before = {"role": user.role, "active": user.active, "display_name": user.display_name}
    user.role, user.active, user.display_name = role, active, display_name.strip()
    after = {"role": role, "active": active, "display_name": user.display_name}
    if password:
        user.password_hash = passwords.hash_password(password)
        after["password"] = "changed"
    if not active or password:  # signed-in browsers of a disabled or re-keyed account log out
        await session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    audit.record(session, by, "user.update", f"user:{user.username}", before, after)


async def sign_in(session: AsyncSession, limits: ratelimit.LoginLimits, username: str,
                  password: str, address: str, ttl_s: float) -> SignIn:
    """Checks the password (unless rate-limited) and opens a session on success."""
    username = username.strip()[:64]
    if await ratelimit.blocked(session, limits, username, address):
        audit.record(session, None, "login.blocked", f"user:{username}",
                     after={"address": address}, username=username)
        return SignIn(None, rate_limited=True)
    user = await session.scalar(select(User).where(User.username == username))
    ok = passwords.verify(user.password_hash if user else None, password)
    if not (ok and user and user.active):
        ratelimit.note(session, username, address, succeeded=False)
        audit.record(session, None, "login.failed", f"user:{username}",
                     after={"address": address}, username=username)
        return SignIn(None)
    ratelimit.note(session, username, address, succeeded=True)
    # Housekeeping on the rare successful sign-in keeps both tables small without a scheduler.
    await session.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
    await ratelimit.forget_before(session, utcnow() - dt.timedelta(days=7))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_digest(token), user_id=user.id,
                             csrf_token=secrets.token_urlsafe(32),
                             expires_at=utcnow() + dt.timedelta(seconds=ttl_s)))
    audit.record(session, user, "login", f"user:{username}", after={"address": address})
    return SignIn(user, token)


async def session_for(session: AsyncSession, token: str | None,
                      ) -> tuple[User, LoginSession] | None:
    """The active user and session behind a cookie, or None."""
    if not token:
        return None
    login = await session.get(LoginSession, _digest(token))
    if login is None:
        return None
    if aware(login.expires_at) <= utcnow():
        await session.delete(login)
        return None
    user = await session.get(User, login.user_id)
    if user is None or not user.active:
        return None
    return user, login


async def sign_out(session: AsyncSession, token: str, user: User) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
    audit.record(session, user, "logout", f"user:{user.username}")


async def users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.username)))
