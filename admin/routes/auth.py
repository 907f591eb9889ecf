"""Signing in and out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin import accounts
from admin.web import (
    DB,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Staff,
    check_csrf,
    check_login_csrf,
    prefix,
    redirect,
    render,
    staff,
    state,
)

router = APIRouter()
SIGNED_IN = Depends(staff)


def _safe_next(value: str | None) -> str:
    # Only a path inside the admin: an open redirect would make the login page a phishing aid.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_page(request: Request, next_path: str, error: str = "",
                status_code: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code, login_csrf=token, next=next_path,
                      error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=prefix(request) or "/", httponly=True,
                        samesite="strict",
                        secure=state(request).settings.admin_secure_cookies)
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login", dependencies=[Depends(check_login_csrf)])
async def login(request: Request, username: str = Form(""), password: str = Form(""),
                next: str = Form("/"), session: AsyncSession = DB) -> Response:
    admin = state(request)
    address = request.client.host if request.client else "unknown"
    result = await accounts.sign_in(session, admin.limits, username, password, address,
                                    admin.settings.admin_session_ttl_s)
    if result.rate_limited:
        return _login_page(request, _safe_next(next), "Too many failed sign-ins. Wait a few "
                           "minutes and try again.", 429)
    if result.user is None or result.token is None:
        return _login_page(request, _safe_next(next), "Wrong username or password.", 401)
    response = redirect(request, _safe_next(next))
    response.set_cookie(SESSION_COOKIE, result.token, path=prefix(request) or "/",
                        max_age=int(admin.settings.admin_session_ttl_s), httponly=True,
                        samesite="lax", secure=admin.settings.admin_secure_cookies)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=prefix(request) or "/")
    return response


@router.post("/logout")
async def logout(request: Request, who: Staff = SIGNED_IN,
                 session: AsyncSession = DB) -> Response:
    await check_csrf(request, who.login.csrf_token)
    await accounts.sign_out(session, request.cookies.get(SESSION_COOKIE, ""), who.user)
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path=prefix(request) or "/")
    return response
