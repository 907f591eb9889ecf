"""User management and the audit log (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin import accounts, audit
from admin.models import Role, User
from admin.permissions import Permission
from admin.web import DB, Staff, redirect, render, require

router = APIRouter()
MANAGE = Depends(require(Permission.MANAGE_USERS))
AUDIT = Depends(require(Permission.VIEW_AUDIT))


@router.get("/users")
async def user_list(request: Request, who: Staff = MANAGE,
                    session: AsyncSession = DB) -> Response:
    return render(request, "users.html", users=await accounts.users(session), roles=list(Role))


@router.post("/users")
async def user_create(request: Request, username: str = Form(""), password: str = Form(""),
                      role: str = Form(""), display_name: str = Form(""),
                      who: Staff = MANAGE, session: AsyncSession = DB) -> Response:
    try:
        await accounts.create_user(session, who.user, username, password, role, display_name)
    except accounts.AccountError as error:
        return render(request, "users.html", 422, users=await accounts.users(session),
                      roles=list(Role), error=str(error),
                      form={"username": username, "role": role, "display_name": display_name})
    return redirect(request, "/users")


@router.get("/users/{user_id}")
async def user_form(request: Request, user_id: int, who: Staff = MANAGE,
                    session: AsyncSession = DB) -> Response:
    user = await session.get(User, user_id)
    if user is None:
        raise HTTPException(404, "No such user.")
    return render(request, "user_edit.html", user=user, roles=list(Role))


@router.post("/users/{user_id}")
async def user_update(request: Request, user_id: int, role: str = Form(""),
                      display_name: str = Form(""), active: bool = Form(False),
                      password: str = Form(""), who: Staff = MANAGE,
                      session: AsyncSession = DB) -> Response:
    user = await session.get(User, user_id)
    if user is None:
        raise HTTPException(404, "No such user.")
    try:
        await accounts.update_user(session, who.user, user, role=role, active=active,
                                   display_name=display_name, password=password or None)
    except accounts.AccountError as error:
        return render(request, "user_edit.html", 422, user=user, roles=list(Role),
                      error=str(error))
    return redirect(request, "/users")


@router.get("/audit")
async def audit_log(request: Request, action: str | None = None,
                    who: Staff = AUDIT,
                    session: AsyncSession = DB) -> Response:
    return render(request, "audit.html", entries=await audit.recent(session, action=action),
                  action=action or "")
