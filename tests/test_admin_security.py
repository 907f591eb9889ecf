"""The admin's security over ASGI: anonymous visitors, CSRF, login rate limits, roles, sessions,
the audit log and escaping of residents' text."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from actions.feedback_store import AnswerFeedback
from admin.db import Database
from admin.models import AuditEntry, LoginSession, User
from bot.store import Turn
from bot.tickets import Ticket
from helpdesk.settings import EMULATOR_BOT_TOKEN, ROOT
from tests.auxil.admin import (
    PASSWORD,
    add_rows,
    add_user,
    admin_settings,
    csrf_for,
    csrf_of,
    sign_in,
    web_client,
)

PAGES = ["/admin/", "/admin/users", "/admin/users/1", "/admin/audit", "/admin/tickets",
         "/admin/tickets/1", "/admin/inbox", "/admin/articles", "/admin/articles/visa-renewal",
         "/admin/publish"]


@pytest.fixture
async def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = admin_settings(tmp_path)
    for name, role in [("alice", "admin"), ("eddie", "editor"), ("rita", "reviewer"),
                       ("carl", "counselor")]:
        await add_user(settings, name, role)
    return settings


async def rows(settings, model):  # type: ignore[no-untyped-def]
    database = Database(settings.db_url)
    try:
        async with database.sessions() as session:
            return list(await session.scalars(select(model)))
    finally:
        await database.close()


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_visitor_is_sent_to_login_and_sees_nothing(settings, path) -> None:
    async with web_client(settings) as client:
        response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")
    assert response.text == ""


async def test_anonymous_post_changes_nothing(settings) -> None:
    async with web_client(settings) as client:
        response = await client.post("/admin/users", data={
            "username": "mallory", "password": "x" * 12, "role": "admin", "csrf_token": "x"})
    assert response.status_code == 303
    assert "mallory" not in [user.username for user in await rows(settings, User)]


async def test_sign_in_sets_a_random_http_only_cookie_and_stores_only_its_hash(settings) -> None:
    async with web_client(settings) as client:
        response = await sign_in(client, "alice")
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/admin" in cookie
        token = client.cookies["helpdesk_admin"]
        assert (await client.get("/admin/")).status_code == 200
    stored = [login.token_hash for login in await rows(settings, LoginSession)]
    assert len(stored) == 1 and token not in stored[0]


async def test_wrong_password_and_unknown_user_are_refused_alike(settings) -> None:
    async with web_client(settings) as client:
        wrong = await sign_in(client, "alice", "not the password")
        unknown = await sign_in(client, "nobody", "not the password")
        assert (await client.get("/admin/")).status_code == 303
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username" in unknown.text


async def test_login_form_without_its_csrf_token_is_refused(settings) -> None:
    async with web_client(settings) as client:
        await client.get("/admin/login")
        response = await client.post("/admin/login", data={
            "username": "alice", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "helpdesk_admin" not in response.cookies


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_post_without_the_sessions_csrf_token_is_refused(settings, token) -> None:
    form = {"username": "mallory", "password": "x" * 12, "role": "admin"}
    if token is not None:
        form["csrf_token"] = token
    async with web_client(settings) as client:
        await sign_in(client, "alice")
        response = await client.post("/admin/users", data=form)
    assert response.status_code == 403
    assert "mallory" not in [user.username for user in await rows(settings, User)]


async def test_csrf_token_of_another_session_is_refused(settings) -> None:
    async with web_client(settings) as other:
        await sign_in(other, "alice")
        foreign = await csrf_for(other)
    async with web_client(settings) as client:
        await sign_in(client, "alice")
        assert foreign != await csrf_for(client)
        response = await client.post("/admin/users", data={
            "username": "mallory", "password": "x" * 12, "role": "admin",
            "csrf_token": foreign})
    assert response.status_code == 403


async def test_admin_creates_a_user_and_the_audit_log_records_it(settings) -> None:
    async with web_client(settings) as client:
        await sign_in(client, "alice")
        response = await client.post("/admin/users", data={
            "username": "nina", "password": "a long enough one", "role": "editor",
            "display_name": "Nina", "csrf_token": await csrf_for(client, "/admin/users")})
        assert response.status_code == 303
        audit_page = await client.get("/admin/audit")
    nina = next(user for user in await rows(settings, User) if user.username == "nina")
    assert nina.role == "editor" and nina.password_hash.startswith("$argon2id$")
    entry = next(e for e in await rows(settings, AuditEntry) if e.action == "user.create"
                 and e.target == "user:nina")
    assert entry.username == "alice" and entry.after == {"role": "editor", "display_name": "Nina"}
    assert "user:nina" in audit_page.text


async def test_role_change_is_audited_with_before_and_after(settings) -> None:
    async with web_client(settings) as client:
        await sign_in(client, "alice")
        rita = next(u for u in await rows(settings, User) if u.username == "rita")
        response = await client.post(f"/admin/users/{rita.id}", data={
            "role": "editor", "display_name": "Rita", "active": "true",
            "csrf_token": await csrf_for(client)})
    assert response.status_code == 303
    entry = next(e for e in await rows(settings, AuditEntry) if e.action == "user.update")
    assert entry.before["role"] == "reviewer" and entry.after["role"] == "editor"


async def test_disabling_a_user_ends_their_sessions(settings) -> None:
    async with web_client(settings) as eddie, web_client(settings) as alice:
        await sign_in(eddie, "eddie")
        assert (await eddie.get("/admin/")).status_code == 200
        await sign_in(alice, "alice")
        user = next(u for u in await rows(settings, User) if u.username == "eddie")
        await alice.post(f"/admin/users/{user.id}", data={
            "role": "editor", "display_name": "", "csrf_token": await csrf_for(alice)})
        assert (await eddie.get("/admin/")).status_code == 303
        assert (await sign_in(eddie, "eddie")).status_code == 401


async def test_sign_out_ends_the_session_for_a_copied_cookie(settings) -> None:
    async with web_client(settings) as client:
        await sign_in(client, "alice")
        token = client.cookies["helpdesk_admin"]
        response = await client.post("/admin/logout", data={"csrf_token": await csrf_for(client)})
        assert response.status_code == 303
        client.cookies.set("helpdesk_admin", token, path="/admin")
        assert (await client.get("/admin/")).status_code == 303


async def test_expired_session_is_refused(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path, admin_session_ttl_s=0)
    await add_user(settings, "alice", "admin")
    async with web_client(settings) as client:
        assert (await sign_in(client, "alice")).status_code == 303
        assert (await client.get("/admin/")).status_code == 303


async def test_login_is_rate_limited_per_username(settings) -> None:
    async with web_client(settings) as client:
        for _ in range(settings.admin_login_max_failures):
            assert (await sign_in(client, "alice", "wrong guess")).status_code == 401
        blocked = await sign_in(client, "alice")  # even the right password
        other_user = await sign_in(client, "eddie")
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert other_user.status_code == 303


async def test_login_is_rate_limited_per_client_address(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path, admin_login_max_failures_per_address=4)
    await add_user(settings, "alice", "admin")
    async with web_client(settings, address="192.0.2.7") as client:
        for n in range(4):  # a different username each time: only the address adds up
            assert (await sign_in(client, f"guess{n}", "wrong")).status_code == 401
        assert (await sign_in(client, "alice")).status_code == 429
    async with web_client(settings, address="192.0.2.8") as elsewhere:
        assert (await sign_in(elsewhere, "alice")).status_code == 303


async def test_the_lockout_ends_with_the_window(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path, admin_login_window_s=0.5, admin_login_max_failures=1)
    await add_user(settings, "alice", "admin")
    async with web_client(settings) as client:
        await sign_in(client, "alice", "wrong")
        assert (await sign_in(client, "alice")).status_code == 429
        import asyncio

        await asyncio.sleep(0.6)
        assert (await sign_in(client, "alice")).status_code == 303


@pytest.mark.parametrize(("user", "path", "status"), [
    ("rita", "/admin/users", 403), ("rita", "/admin/audit", 403), ("rita", "/admin/tickets", 403),
    ("eddie", "/admin/users", 403), ("eddie", "/admin/tickets", 403),
    ("carl", "/admin/users", 403), ("carl", "/admin/inbox", 403), ("carl", "/admin/articles", 403),
    ("carl", "/admin/publish", 403), ("carl", "/admin/tickets", 200), ("carl", "/admin/", 200),
    ("alice", "/admin/users", 200), ("alice", "/admin/audit", 200),
    ("alice", "/admin/tickets", 200),
])
async def test_permission_matrix(settings, user, path, status) -> None:
    async with web_client(settings) as client:
        await sign_in(client, user)
        response = await client.get(path)
    assert response.status_code == status


async def test_reviewer_cannot_manage_users_even_with_a_valid_csrf_token(settings) -> None:
    async with web_client(settings) as client:
        await sign_in(client, "rita")
        response = await client.post("/admin/users", data={
            "username": "mallory", "password": "x" * 12, "role": "admin",
            "csrf_token": await csrf_for(client)})
        page = await client.get("/admin/")
    assert response.status_code == 403
    assert "mallory" not in [user.username for user in await rows(settings, User)]
    assert "/admin/users" not in page.text  # no link to what the role may not use


def turn(text: str, intent: str | None, confidence: float | None, articles: list[str],
         language: str = "en", **fields) -> Turn:  # type: ignore[no-untyped-def]
    return Turn(update_id=1, chat_id=5, text=text, language=language, intent=intent,
                confidence=confidence, articles=articles, answer_language=language,
                latency_ms=10.0, **fields)


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


async def test_resident_text_is_shown_as_text(settings) -> None:
    now = dt.datetime.now(dt.UTC)
    await add_rows(settings, turn(SCRIPT, "out_of_scope", 0.9, []),
                   Ticket(chat_id=5, language="en", subject=SCRIPT, status="queued",
                          created_at=now))
    async with web_client(settings) as client:
        await sign_in(client, "alice")
        pages = [await client.get(p) for p in ("/admin/inbox", "/admin/tickets",
                                               "/admin/tickets/1")]
    for page in pages:
        assert page.status_code == 200
        assert ESCAPED in page.text
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_dashboard_figures(settings) -> None:
    now = dt.datetime.now(dt.UTC)
    await add_rows(
        settings,
        turn("garbage?", "ask_question", 0.95, ["garbage-sorting"]),
        turn("lixo?", "ask_question", 0.9, ["garbage-sorting"], language="pt"),
        turn("visa?", "ask_question", 0.9, ["visa-renewal"], language="vi"),
        turn("pizza?", "out_of_scope", 0.8, []),
        turn("hmm", "ask_question", 0.3, ["visa-renewal"]),
        turn("hello", "greet", 0.99, []),
        Ticket(chat_id=5, language="en", subject="help", status="closed", created_at=now,
               first_response_at=now + dt.timedelta(minutes=10), rating=4),
        Ticket(chat_id=6, language="pt", subject="ajuda", status="closed", created_at=now,
               first_response_at=now + dt.timedelta(minutes=30), rating=2),
        Ticket(chat_id=7, language="vi", subject="?", status="queued", created_at=now),
        *[AnswerFeedback(chat_id=20 + n, article_id="garbage-sorting", language="en",
                         rating=rating, answered_at=now, rated_at=now)
          for n, rating in enumerate(["up", "up", "up", "down"])])
    async with web_client(settings) as client:
        await sign_in(client, "carl")
        page = (await client.get("/admin/?days=7")).text
    assert '<dd id="kpi-messages">6</dd>' in page
    assert '<dd id="kpi-unanswered">40 %</dd>' in page  # 2 of 5 questions
    assert '<dd id="kpi-handoffs">3</dd>' in page and "1 still waiting" in page
    assert '<dd id="kpi-wait">20 min</dd>' in page  # median of 10 and 30 minutes
    assert '<dd id="kpi-rating">3.0 / 5</dd>' in page
    assert '<dd id="kpi-thumbs">75 %</dd>' in page and "3 👍, 1 👎" in page
    assert "<td>garbage-sorting</td><td>2</td>" in page
    assert "<td>visa-renewal</td><td>1</td>" in page
    assert page.count("<svg viewBox") == 6


async def test_web_process_serves_the_emulator_only_without_a_token(tmp_path: Path) -> None:
    emulated = admin_settings(tmp_path)
    async with web_client(emulated) as client:
        assert (await client.get(f"/bot{EMULATOR_BOT_TOKEN}/getMe")).status_code == 200
        assert (await client.get("/admin/login")).status_code == 200
    real = admin_settings(tmp_path, telegram_bot_token="123:real")
    async with web_client(real) as client:
        assert (await client.get(f"/bot{EMULATOR_BOT_TOKEN}/getMe")).status_code == 404
        assert (await client.get("/admin/login")).status_code == 200
        assert (await client.get("/admin")).headers["location"] == "/admin/"


def test_make_create_admin_reads_the_environment(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path)
    env = {**os.environ, "DATABASE_URL": settings.db_url, "ADMIN_USERNAME": "root",
           "ADMIN_PASSWORD": "first admin pass", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "admin", "create-admin"], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([sys.executable, "-m", "admin", "create-admin"], env=env,
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    assert again.returncode == 1 and "taken" in again.stderr


async def test_created_admin_can_sign_in(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path)
    from admin.cli import create_admin

    await create_admin(settings.db_url, "root", "first admin pass", "admin")
    async with web_client(settings) as client:
        assert (await sign_in(client, "root", "first admin pass")).status_code == 303
        assert (await client.get("/admin/users")).status_code == 200


def test_csrf_helper_reads_the_token() -> None:
    assert csrf_of('<input type="hidden" name="csrf_token" value="abc">') == "abc"
