"""Request plumbing shared by the admin's pages: the signed-in staff member, permissions, CSRF
checks and template rendering (Jinja2, autoescaped: resident text is untrusted)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from admin import accounts
from admin.db import Database
from admin.models import LoginSession, User
from admin.permissions import Permission, allowed
from admin.ratelimit import LoginLimits
from helpdesk.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "helpdesk_admin"
LOGIN_CSRF_COOKIE = "helpdesk_admin_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """Raised by any page for a visitor without a valid session: they go to the login page."""


@dataclass
class AdminState:
    settings: Settings
    database: Database
    knowledge: Any  # the knowledge base's repository (knowledge.repository), or None
    templates: Jinja2Templates
    _schema_ready: bool = False
    _schema_lock: asyncio.Lock | None = None
    _embedder: Any = None

    @property
    def limits(self) -> LoginLimits:
        s = self.settings
        return LoginLimits(s.admin_login_max_failures, s.admin_login_max_failures_per_address,
                           s.admin_login_window_s)

    async def ready(self) -> None:
        # Mounted apps get no lifespan events of their own, so the schema is made on first use.
        if self._schema_ready:
            return
        self._schema_lock = self._schema_lock or asyncio.Lock()
        async with self._schema_lock:
            if not self._schema_ready:
                await self.database.create_schema()
                if self.knowledge is not None:
                    # Whichever starts first on a fresh database, the admin or the action
                    # server, seeds it from knowledge/content/ (the repository allows for both).
                    await self.knowledge.create_schema()
                    await self.knowledge.seed_if_empty(author="seed")
                self._schema_ready = True

    async def embedder(self) -> Any:
        """The multilingual embedder the knowledge base uses, loaded on the inbox's first use."""
        if self._embedder is None:
            from knowledge.embedder import load_embedder

            self._embedder = await asyncio.to_thread(load_embedder,
                                                     self.settings.knowledge_embedder)
        return self._embedder


@dataclass
class Staff:
    """The signed-in staff member of this request."""

    user: User
    login: LoginSession

    def can(self, permission: Permission | str) -> bool:
        return allowed(self.user.role, Permission(permission))


def make_templates() -> Jinja2Templates:
    environment = Environment(loader=FileSystemLoader(TEMPLATES),
                              autoescape=select_autoescape(default=True, default_for_string=True),
                              trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=environment)


def state(request: Request) -> AdminState:
    return request.app.state.admin


async def db(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: a page's change and its audit entry commit together."""
    admin = state(request)
    await admin.ready()
    async with admin.database.sessions.begin() as session:
        yield session


#: The request's database session. Closed (committed) as soon as the page's function returns,
#: before the response leaves: a browser following a redirect must see the change.
DB = Depends(db, scope="function")


async def staff(request: Request, session: AsyncSession = DB) -> Staff:
    found = await accounts.session_for(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise SignInRequired
    user, login = found
    # Detached: an error page rendered after the request's transaction rolled back still shows
    # who is signed in (a rollback would expire attached objects).
    session.expunge(user)
    session.expunge(login)
    request.state.staff = Staff(user, login)
    return request.state.staff


SIGNED_IN = Depends(staff)


def require(permission: Permission) -> Callable[..., Awaitable[Staff]]:
    async def check(request: Request, who: Staff = SIGNED_IN) -> Staff:
        if not who.can(permission):
            raise HTTPException(403, "Your role does not allow this page or action.")
        if request.method == "POST":
            await check_csrf(request, who.login.csrf_token)
        return who

    return check


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # Starlette keeps it: the page's own Form() fields still work
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "The form expired or did not come from this site. Reload the "
                                 "page and try again.")


async def check_login_csrf(request: Request) -> None:
    """The login form has no session yet: its token is a cookie the form must repeat."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected:
        raise HTTPException(403, "Cookies are needed to sign in. Reload the page and try again.")
    await check_csrf(request, expected)


def prefix(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    who: Staff | None = getattr(request.state, "staff", None)
    return state(request).templates.TemplateResponse(
        request, template, {"prefix": prefix(request), "staff": who, "P": Permission,
                            "csrf": who.login.csrf_token if who else "", **context},
        status_code=status_code, headers={"Cache-Control": "no-store"})


def redirect(request: Request, path: str) -> Response:
    """303 to an admin path; for HTMX requests, a full-page redirect."""
    url = prefix(request) + path
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})
