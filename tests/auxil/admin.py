"""Helpers for the admin's tests: a web app on a scratch database, staff accounts, signing in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from admin import accounts
from admin.db import Database
from helpdesk.settings import Settings
from helpdesk.web import create_web_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def admin_settings(directory: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {"telegram_bot_token": None, "data_dir": directory,
                              "database_url": f"sqlite+aiosqlite:///{directory / 'helpdesk.db'}",
                              **overrides}
    return Settings(_env_file=None, **fields)


async def add_user(settings: Settings, username: str, role: str,
                   password: str = PASSWORD) -> None:
    database = Database(settings.db_url)
    try:
        await database.create_schema()
        async with database.sessions.begin() as session:
            await accounts.create_user(session, None, username, password, role)
    finally:
        await database.close()


@asynccontextmanager
async def web_client(settings: Settings, knowledge: Any = None,
                     address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """The real web app (admin mounted at /admin) over ASGI, from a given client address."""
    app = create_web_app(settings, knowledge)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    await app.routes[1].app.state.admin.database.close()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str,
                  password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/admin/login")
    return await client.post("/admin/login", data={
        "username": username, "password": password, "next": "/",
        "csrf_token": csrf_of(page.text)})


async def csrf_for(client: httpx.AsyncClient, path: str = "/admin/") -> str:
    """The signed-in session's CSRF token, as a page hands it to its forms."""
    page = await client.get(path)
    assert page.status_code == 200, page.text[:500]
    return csrf_of(page.text)


CHROMIUM = Path("/usr/bin/chromium")
#: Debian's chromium, headless, with nothing reaching the network (see environment notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless browser (Playwright driving Debian's chromium; Playwright's own download does
    not work offline). Missing chromium skips locally and fails in CI, which installs it."""
    import os

    import pytest
    from playwright.async_api import async_playwright

    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (a stat, once per test)
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it with apt)")
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def browser_sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/admin/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/admin/")


async def add_rows(settings: Settings, *rows: Any) -> None:
    """Writes bot records (turns, tickets) into the settings' database, as the bot would."""
    database = Database(settings.db_url)
    try:
        await database.create_schema()
        async with database.sessions.begin() as session:
            session.add_all(rows)
    finally:
        await database.close()
