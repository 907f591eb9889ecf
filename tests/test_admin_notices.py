"""The notices pages (issue 9) over ASGI on a scratch database: compose per language, machine
draft, approval, confirmed send into the bot's outbox, progress, roles, CSRF and escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from admin.db import Database
from admin.models import AuditEntry
from bot.broadcast import CURATED, DRAFT, FALLBACK, QUEUED, Broadcasts, Text
from bot.outbox import FAILED, SENT, UNKNOWN, OutboxMessage
from bot.store import Store
from bot.subscriptions import Subscriptions
from helpdesk.web import create_web_app
from knowledge.repository import open_repository
from tests.auxil.admin import (
    add_user,
    admin_settings,
    browser_sign_in,
    chromium,
    csrf_for,
    sign_in,
    web_client,
)
from tests.auxil.servers import serving
from translation.service import default_service

ENGLISH = "The river is flooding. Go to the evacuation centre now."
JAPANESE = "かわが あふれています。いますぐ ひなんじょへ いってください。"
PORTUGUESE = "O rio está transbordando. Vá agora para o abrigo."
#: chat id → (the resident's language, the text language they should get)
RESIDENTS = {101: ("pt", "pt"), 102: ("pt", "pt"), 103: ("en", "en"), 104: ("ja", "ja"),
             105: ("vi", FALLBACK)}


@pytest.fixture
async def desk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """(settings, bot store): staff accounts, news subscribers in four languages, one disaster
    subscriber (whom a news notice must not reach), and the knowledge base's translator."""
    settings = admin_settings(tmp_path)
    for name, role in [("eddie", "editor"), ("rita", "reviewer"), ("carl", "counselor")]:
        await add_user(settings, name, role)
    store = Store(settings.db_url)
    await store.create_schema()
    subscriptions = Subscriptions(store)
    for chat_id, (language, _) in RESIDENTS.items():
        await subscriptions.set(chat_id, "en", news=True)
        # The resident's own choice outranks the language they subscribed in.
        await store.update_resident(chat_id, chosen_language=language)
    await subscriptions.set(106, "pt", disaster=True)
    repo = open_repository(settings.db_url, translator=default_service(use_cache=False))
    await repo.create_schema()
    yield settings, store, repo
    await repo.close()
    await store.close()


async def audit_actions(settings) -> list[str]:  # type: ignore[no-untyped-def]
    database = Database(settings.db_url)
    try:
        async with database.sessions() as session:
            return [e.action for e in await session.scalars(select(AuditEntry))]
    finally:
        await database.close()


async def outbox_rows(store: Store, notice_id: int) -> dict[int, tuple[str, str]]:
    async with store.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(
            OutboxMessage.notice_id == notice_id))
        return {row.chat_id: (row.language, row.text_language) for row in rows}


async def compose(client, texts: dict[str, str], topic: str = "news") -> int:  # type: ignore[no-untyped-def]
    data = {"csrf_token": await csrf_for(client, "/admin/notices/new"), "topic": topic}
    data.update({f"text_{lang}": text for lang, text in texts.items()})
    created = await client.post("/admin/notices/new", data=data)
    assert created.status_code == 303, created.text[:500]
    found = re.search(r"/admin/notices/(\d+)\?notice=created", created.headers["location"])
    assert found
    return int(found.group(1))


async def test_compose_machine_draft_approve_send_and_progress(desk) -> None:
    settings, store, repo = desk
    broadcasts = Broadcasts(store)
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        notice_id = await compose(client, {"en": ENGLISH, "ja": JAPANESE, "pt": PORTUGUESE})
        view = await broadcasts.notice(notice_id)
        assert view is not None and view.created_by == "eddie"
        assert {k: v.status for k, v in view.texts.items()} == {
            "en": CURATED, "ja": CURATED, "pt": CURATED}
        page = (await client.get(f"/admin/notices/{notice_id}")).text
        assert 'name="text_pt"' in page and ENGLISH in page  # side by side with the English
        assert "Draft by machine translation" in page  # en→pt has an engine here

        # Replacing the curated Portuguese with a machine draft needs the explicit tick.
        refused = await client.post(f"/admin/notices/{notice_id}/machine/pt",
                                    data={"csrf_token": await csrf_for(client)})
        assert refused.status_code == 409
        drafted = await client.post(f"/admin/notices/{notice_id}/machine/pt", data={
            "csrf_token": await csrf_for(client), "overwrite": "true"})
        assert drafted.status_code == 303
        view = await broadcasts.notice(notice_id)
        assert view is not None
        portuguese = view.texts["pt"]
        assert portuguese.status == DRAFT  # sent only once a reviewer approves it
        assert portuguese.text.strip() and portuguese.text not in (ENGLISH, PORTUGUESE)
        # No engine for Vietnamese: no button, and the route refuses.
        no_engine = await client.post(f"/admin/notices/{notice_id}/machine/vi",
                                      data={"csrf_token": await csrf_for(client)})
        assert no_engine.status_code == 409

    async with web_client(settings, repo) as client:
        await sign_in(client, "rita")  # a reviewer approves but cannot send
        page = (await client.get(f"/admin/notices/{notice_id}")).text
        assert "Approve as curated" in page
        approved = await client.post(f"/admin/notices/{notice_id}/approve/pt",
                                     data={"csrf_token": await csrf_for(client)})
        assert approved.status_code == 303
        assert (await client.get(f"/admin/notices/{notice_id}/send")).status_code == 403
    view = await broadcasts.notice(notice_id)
    assert view is not None and view.texts["pt"] == Text(portuguese.text, CURATED)

    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        confirm = (await client.get(f"/admin/notices/{notice_id}/send")).text
        assert '<strong id="reach-total">5</strong>' in confirm
        assert re.search(r"<td>pt</td><td>2</td>", confirm)
        assert re.search(r"<td>vi</td><td>1</td><td>English \+ Easy Japanese", confirm)
        sent = await client.post(f"/admin/notices/{notice_id}/send",
                                 data={"csrf_token": await csrf_for(client)})
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/admin/notices/{notice_id}/progress"
        assert await outbox_rows(store, notice_id) == RESIDENTS  # not 106 (disaster only)
        view = await broadcasts.notice(notice_id)
        assert view is not None and view.status == QUEUED

        # The bot's sender got through some rows: one sent, one in doubt, one failed.
        for chat_id, status in [(101, SENT), (102, UNKNOWN), (103, FAILED)]:
            async with store.sessions.begin() as session:
                await session.execute(update(OutboxMessage).where(
                    OutboxMessage.notice_id == notice_id, OutboxMessage.chat_id == chat_id)
                    .values(status=status))
        progress = await broadcasts.progress(notice_id)
        page = (await client.get(f"/admin/notices/{notice_id}/progress")).text
        live = (await client.get(f"/admin/notices/{notice_id}/progress/live")).text
        listing = (await client.get("/admin/notices")).text
    summary = (f"{progress.sent} of {progress.total} sent · {progress.pending} pending · "
               f"{progress.failed} failed · {progress.blocked} blocked · "
               f"{progress.in_doubt} in doubt")
    assert (progress.sent, progress.pending, progress.failed, progress.in_doubt) == (1, 2, 1, 1)
    for html in (page, live):
        assert summary in html
        assert 'hx-trigger="every 3s"' in html  # still pending: the page keeps polling
    pt_row = re.search(r'<tr data-language="pt">(.*?)</tr>', page)
    assert pt_row
    assert '<td data-column="sent">1</td>' in pt_row.group(1)
    assert '<td data-column="in_doubt">1</td>' in pt_row.group(1)
    assert "may or may not have" in page  # what "in doubt" means
    assert "1/5 sent, 2 pending, 1 failed, 1 in doubt" in listing
    assert {"notice.create", "notice.machine_draft", "notice.approve",
            "notice.send"} <= set(await audit_actions(settings))


async def test_resend_in_doubt_and_withdraw_are_audited(desk) -> None:
    settings, store, repo = desk
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(
        "news", {"en": Text(ENGLISH), "ja": Text(JAPANESE)}, created_by="eddie")
    await broadcasts.send(notice_id)
    async with store.sessions.begin() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.chat_id == 101)
                              .values(status=UNKNOWN))
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        page = (await client.get(f"/admin/notices/{notice_id}/progress")).text
        assert "Resend to the 1 resident in doubt" in page
        resent = await client.post(f"/admin/notices/{notice_id}/resend",
                                   data={"csrf_token": await csrf_for(client)})
        assert resent.status_code == 303
        assert (await broadcasts.progress(notice_id)).in_doubt == 0
        withdrawn = await client.post(f"/admin/notices/{notice_id}/withdraw",
                                      data={"csrf_token": await csrf_for(client)})
        assert withdrawn.status_code == 303
    progress = await broadcasts.progress(notice_id)
    assert progress.pending == 0 and progress.counts["cancelled"] == len(RESIDENTS)
    actions = await audit_actions(settings)
    assert "notice.resend_in_doubt" in actions and "notice.withdraw" in actions


async def test_send_refused_while_a_draft_is_unreviewed(desk) -> None:
    settings, store, repo = desk
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice("news", {
        "en": Text(ENGLISH), "ja": Text(JAPANESE), "pt": Text(PORTUGUESE, DRAFT)}, "eddie")
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        confirm = (await client.get(f"/admin/notices/{notice_id}/send")).text
        assert "unreviewed drafts in pt" in confirm
        refused = await client.post(f"/admin/notices/{notice_id}/send",
                                    data={"csrf_token": await csrf_for(client)})
    assert refused.status_code == 409
    assert "machine drafts not yet reviewed: pt" in refused.text
    assert await outbox_rows(store, notice_id) == {}


async def test_post_without_csrf_is_refused(desk) -> None:
    settings, store, repo = desk
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(
        "news", {"en": Text(ENGLISH), "ja": Text(JAPANESE)}, created_by="eddie")
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        created = await client.post("/admin/notices/new", data={
            "topic": "news", "text_en": ENGLISH, "text_ja": JAPANESE})
        sent = await client.post(f"/admin/notices/{notice_id}/send", data={})
        forged = await client.post(f"/admin/notices/{notice_id}/send",
                                   data={"csrf_token": "not-the-token"})
    assert (created.status_code, sent.status_code, forged.status_code) == (403, 403, 403)
    assert [v.id for v in await broadcasts.notices()] == [notice_id]
    assert await outbox_rows(store, notice_id) == {}


async def test_counselor_reads_but_cannot_compose_or_send(desk) -> None:
    settings, store, repo = desk
    broadcasts = Broadcasts(store)
    notice_id = await broadcasts.create_notice(
        "news", {"en": Text(ENGLISH), "ja": Text(JAPANESE)}, created_by="eddie")
    async with web_client(settings, repo) as client:
        await sign_in(client, "carl")
        listing = await client.get("/admin/notices")
        page = await client.get(f"/admin/notices/{notice_id}")
        csrf = await csrf_for(client)
        attempts = [await client.get("/admin/notices/new"),
                    await client.get(f"/admin/notices/{notice_id}/send"),
                    await client.post(f"/admin/notices/{notice_id}/send",
                                      data={"csrf_token": csrf}),
                    await client.post(f"/admin/notices/{notice_id}",
                                      data={"csrf_token": csrf, "text_en": "changed"}),
                    await client.post(f"/admin/notices/{notice_id}/withdraw",
                                      data={"csrf_token": csrf})]
    assert listing.status_code == 200 and page.status_code == 200
    assert ENGLISH in page.text and "Send…" not in page.text and "Save texts" not in page.text
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    view = await broadcasts.notice(notice_id)
    assert view is not None and view.status == "composing" and view.texts["en"].text == ENGLISH
    assert await outbox_rows(store, notice_id) == {}


async def test_anonymous_visitors_see_nothing(desk) -> None:
    settings, store, repo = desk
    notice_id = await Broadcasts(store).create_notice(
        "news", {"en": Text(ENGLISH), "ja": Text(JAPANESE)}, created_by="eddie")
    async with web_client(settings, repo) as client:
        for path in ["/admin/notices", f"/admin/notices/{notice_id}",
                     f"/admin/notices/{notice_id}/progress"]:
            response = await client.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/admin/login")
            assert ENGLISH not in response.text


async def test_script_in_a_notice_text_is_shown_escaped(desk) -> None:
    settings, store, repo = desk
    script = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    notice_id = await Broadcasts(store).create_notice(
        "news", {"en": Text(f"Notice {script}"), "ja": Text(JAPANESE)}, created_by="eddie")
    async with web_client(settings, repo) as client:
        await sign_in(client, "carl")
        pages = [(await client.get(f"/admin/notices/{notice_id}")).text,
                 (await client.get(f"/admin/notices/{notice_id}/progress")).text]
        await sign_in(client, "eddie")
        confirm = await client.get(f"/admin/notices/{notice_id}/send")
        assert confirm.status_code == 200 and "Send to 5 residents" in confirm.text
        pages.append(confirm.text)
    assert "<script>window.pwned" not in pages[0]
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in pages[0]
    for html in pages:
        assert "<script>window" not in html and "<img src=x" not in html


async def test_browser_compose_send_and_watch_progress(desk) -> None:
    """Compose → confirm → send in chromium, then the progress page updates itself (htmx
    polling, under the admin's Content-Security-Policy) as the bot's sender delivers."""
    settings, store, repo = desk
    async with serving(create_web_app(settings, repo)) as port, chromium() as browser:
        base = f"http://127.0.0.1:{port}"
        page = await browser.new_page()
        await browser_sign_in(page, base, "eddie")
        await page.click("header >> text=Notices")
        await page.click("text=Compose a notice")
        await page.select_option("select[name=topic]", "news")
        await page.fill("textarea[name=text_en]", ENGLISH)
        await page.fill("textarea[name=text_ja]", JAPANESE)
        await page.fill("textarea[name=text_pt]", PORTUGUESE)
        await page.click("text=Create notice")
        await page.wait_for_selector("text=Notice saved.")
        await page.click("text=Send…")
        assert await page.inner_text("#reach-total") == "5"
        await page.click("text=Send to 5 residents")
        await page.wait_for_selector("#progress-summary")
        assert "0 of 5 sent · 5 pending" in await page.inner_text("#progress-summary")
        async with store.sessions.begin() as session:  # as the bot's sender would
            await session.execute(update(OutboxMessage).values(status=SENT))
        await page.wait_for_selector("#progress-summary:has-text('5 of 5 sent')", timeout=10_000)
        assert await page.inner_text("tr[data-language=pt] td[data-column=sent]") == "2"


async def test_garbage_notice_for_some_districts_reaches_only_them(desk) -> None:
    settings, store, repo = desk
    subscriptions = Subscriptions(store)
    await subscriptions.set(201, "pt", garbage=True, district="sample-a")
    await subscriptions.set(202, "en", garbage=True, district="sample-b")
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        form = (await client.get("/admin/notices/new")).text
        assert 'name="districts" value="sample-a"' in form  # from the garbage calendar
        created = await client.post("/admin/notices/new", data={
            "csrf_token": await csrf_for(client), "topic": "garbage", "districts": ["sample-a"],
            "text_en": ENGLISH, "text_ja": JAPANESE})
        assert created.status_code == 303
        notice_id = int(created.headers["location"].split("/")[-1].split("?")[0])
        confirm = (await client.get(f"/admin/notices/{notice_id}/send")).text
        await client.post(f"/admin/notices/{notice_id}/send",
                          data={"csrf_token": await csrf_for(client)})
    view = await Broadcasts(store).notice(notice_id)
    assert view is not None and view.districts == ["sample-a"]
    assert '<strong id="reach-total">1</strong>' in confirm
    assert await outbox_rows(store, notice_id) == {201: ("pt", FALLBACK)}
