"""The admin in a real browser (Playwright + Debian's chromium, headless) against the real web app
on a loopback port: sign in, edit and publish, roles, anonymous visitors, escaping."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Turn
from helpdesk.web import create_web_app
from knowledge.repository import open_repository
from tests.auxil.admin import add_rows, add_user, admin_settings, browser_sign_in, chromium
from tests.auxil.servers import serving

ARTICLE = "visa-renewal"
SCRIPT = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


@pytest.fixture
async def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    """(base URL, repository, settings): the web app with the admin, on a free port."""
    settings = admin_settings(tmp_path)
    for name, role in [("alice", "admin"), ("eddie", "editor"), ("rita", "reviewer")]:
        await add_user(settings, name, role)
    repo = open_repository(settings.db_url)
    await repo.create_schema()
    await repo.seed_if_empty(author="seed")
    async with serving(create_web_app(settings, repo)) as port:
        yield f"http://127.0.0.1:{port}", repo, settings
    await repo.close()


async def test_editor_edits_vietnamese_side_by_side_and_publishes(site) -> None:
    base, repo, _ = site
    new_answer = "Gia hạn thị thực tại Cục Xuất nhập cảnh — văn bản mới từ trình duyệt."
    async with chromium() as browser:
        page = await browser.new_page()
        await browser_sign_in(page, base, "eddie")
        await page.click("text=Articles")
        await page.fill("input[name=q]", "visa")  # HTMX filters the table as one types
        await page.wait_for_selector("#article-table a[href='/admin/articles/garbage-sorting']",
                                     state="detached")
        await page.click(f"#article-table a[href='/admin/articles/{ARTICLE}']")
        await page.click(f"nav.languages a[href='/admin/articles/{ARTICLE}?lang=vi']")
        english = (await repo.get_article(ARTICLE)).translations["en"].title
        assert english in await page.inner_text("section.source")
        await page.fill("section.target textarea[name=answer]", new_answer)
        await page.click("text=Save draft")
        await page.wait_for_selector("text=Saved as a draft")
        assert await page.input_value("textarea[name=answer]") == new_answer
        await page.click("header >> text=Publish")
        assert ARTICLE in await page.inner_text("main")
        await page.fill("input[name=note]", "browser test")
        await page.click("text=Publish to residents")
        await page.wait_for_selector("text=Published: the bot answers from the new version")
    _, live = await repo.published_articles()
    assert next(a for a in live if a.id == ARTICLE).translations["vi"].answer == new_answer


async def test_reviewer_cannot_manage_users(site) -> None:
    base, _, _ = site
    async with chromium() as browser:
        page = await browser.new_page()
        await browser_sign_in(page, base, "rita")
        assert await page.locator("header a[href='/admin/users']").count() == 0
        response = await page.goto(f"{base}/admin/users")
        assert response is not None and response.status == 403
        assert "Not allowed" in await page.inner_text("h1")
        assert await page.locator("input[name=username]").count() == 0


async def test_admin_creates_a_user_in_the_browser(site) -> None:
    base, _, _ = site
    async with chromium() as browser:
        page = await browser.new_page()
        await browser_sign_in(page, base, "alice")
        await page.click("header >> text=Users")
        await page.fill("input[name=username]", "nora")
        await page.select_option("select[name=role]", "counselor")
        await page.fill("input[name=password]", "nora's long password")
        await page.click("text=Create user")
        await page.wait_for_selector("a:has-text('nora')")
        await page.click("header >> text=Audit log")
        assert "user:nora" in await page.inner_text("table.audit")


async def test_anonymous_visitor_sees_nothing(site) -> None:
    base, _, _ = site
    async with chromium() as browser:
        page = await browser.new_page()
        for path in ("/admin/", "/admin/articles", f"/admin/articles/{ARTICLE}", "/admin/users",
                     "/admin/inbox"):
            await page.goto(base + path)
            assert page.url.startswith(f"{base}/admin/login")
            text = await page.inner_text("body")
            assert "Sign in" in text and "visa" not in text.lower()
            assert await page.locator("header nav").count() == 0


async def test_resident_script_in_the_inbox_is_shown_as_text(site) -> None:
    base, _, settings = site
    await add_rows(settings, Turn(update_id=1, chat_id=3, text=SCRIPT, language="en",
                                   intent="out_of_scope", confidence=0.9, articles=[],
                                   answer_language="en", latency_ms=1.0))
    async with chromium() as browser:
        page = await browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await browser_sign_in(page, base, "eddie")
        await page.goto(f"{base}/admin/inbox")
        assert await page.inner_text("span.question") == SCRIPT
        assert await page.evaluate("window.pwned === undefined")
        assert await page.locator("main img").count() == 0
    assert dialogs == []
