"""The issue's whole story in a real browser against the real stack: staff edit an article's
Vietnamese text in the admin and publish it, and the running bot (emulator → bot → Rasa → action
server) answers a resident from the new version within seconds, with no restart."""

from __future__ import annotations

import asyncio
import time

import pytest

from helpdesk.local_desk import LocalDesk
from helpdesk.web import create_web_app
from knowledge.repository import open_repository
from tests.auxil.admin import add_user, browser_sign_in, chromium
from tests.auxil.servers import serving

pytestmark = pytest.mark.e2e

ARTICLE = "visa-renewal"
QUESTION = "Tôi cần gia hạn visa thì đi đâu?"
MARKER = "Đây là câu trả lời vừa được nhân viên thành phố cập nhật trong trang quản trị."
#: The action server looks for a new publication every KNOWLEDGE_POLL_S (2 s), then re-embeds
#: only the changed article.
PICKUP_S = 30.0


async def test_published_vietnamese_edit_changes_the_bots_answer(desk: LocalDesk) -> None:
    settings = desk.settings
    before = await desk.say(desk.new_chat(), QUESTION)
    assert before.turn is not None and before.turn.articles[:1] == [ARTICLE]
    assert MARKER not in before.answer

    await add_user(settings, "e2e-editor", "editor")
    repo = open_repository(settings.db_url)
    try:
        async with serving(create_web_app(settings, repo)) as port, chromium() as browser:
            base = f"http://127.0.0.1:{port}"
            page = await browser.new_page()
            await browser_sign_in(page, base, "e2e-editor")
            await page.goto(f"{base}/admin/articles/{ARTICLE}?lang=vi")
            answer = page.locator("section.target textarea[name=answer]")
            await answer.fill(f"{MARKER}\n\n{await answer.input_value()}")
            await page.click("text=Save draft")
            await page.wait_for_selector("text=Saved as a draft")

            # A saved draft never reaches residents, however long the action server polls.
            await asyncio.sleep(3 * settings.knowledge_poll_s)
            draft_only = await desk.say(desk.new_chat(), QUESTION)
            assert MARKER not in draft_only.answer

            await page.goto(f"{base}/admin/publish")
            await page.click("text=Publish to residents")
            await page.wait_for_selector("text=Published: the bot answers from the new version")
            published_at = time.monotonic()
    finally:
        await repo.close()

    while True:
        after = await desk.say(desk.new_chat(), QUESTION)
        if MARKER in after.answer or time.monotonic() - published_at > PICKUP_S:
            break
        await asyncio.sleep(0.5)
    assert MARKER in after.answer, after.answer
    assert after.turn is not None and after.turn.articles[:1] == [ARTICLE]
