"""The article pages and the unanswered inbox over ASGI, on the real knowledge repository (seeded
from knowledge/content/ into a scratch SQLite database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from admin.db import Database
from admin.models import AuditEntry
from bot.store import Turn
from knowledge.repository import open_repository
from tests.auxil.admin import add_rows, add_user, admin_settings, csrf_for, sign_in, web_client
from translation.service import default_service

ARTICLE = "visa-renewal"


@pytest.fixture
async def desk(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = admin_settings(tmp_path)
    for name, role in [("eddie", "editor"), ("rita", "reviewer"), ("carl", "counselor")]:
        await add_user(settings, name, role)
    repo = open_repository(settings.db_url, translator=default_service(use_cache=False))
    await repo.create_schema()
    await repo.seed_if_empty(author="seed")
    yield settings, repo
    await repo.close()


def vietnamese_form(csrf: str, revision: int, answer: str) -> dict[str, str]:
    return {"csrf_token": csrf, "revision": str(revision), "title": "Gia hạn thị thực",
            "answer": answer, "details": "Mang theo hộ chiếu và thẻ cư trú.",
            "where": "Cục Xuất nhập cảnh Nagoya",
            "questions": "Gia hạn visa ở đâu?\nTôi cần gia hạn visa"}


async def audit_actions(settings) -> list[str]:  # type: ignore[no-untyped-def]
    database = Database(settings.db_url)
    try:
        async with database.sessions() as session:
            return [e.action for e in await session.scalars(select(AuditEntry))]
    finally:
        await database.close()


async def test_list_filters_by_language_status_and_text(desk) -> None:
    settings, repo = desk
    async with web_client(settings, repo) as client:
        await sign_in(client, "rita")
        everything = (await client.get("/admin/articles")).text
        visa = (await client.get("/admin/articles?q=visa")).text
        missing = (await client.get("/admin/articles?language=vi&status=missing")).text
    assert f'href="/admin/articles/{ARTICLE}"' in everything
    assert 'href="/admin/articles/garbage-sorting"' in everything
    assert f'href="/admin/articles/{ARTICLE}"' in visa
    assert "garbage-sorting" not in visa
    assert "No article matches." in missing  # every seeded article has Vietnamese


async def test_edit_vietnamese_side_by_side_then_publish(desk) -> None:
    settings, repo = desk
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        page = await client.get(f"/admin/articles/{ARTICLE}?lang=vi")
        assert page.status_code == 200
        english = (await repo.get_article(ARTICLE)).translations["en"]
        assert english.title in page.text  # the English source beside the Vietnamese form
        draft = await repo.get_article(ARTICLE)
        saved = await client.post(f"/admin/articles/{ARTICLE}/text/vi", data=vietnamese_form(
            await csrf_for(client), draft.revision, "Câu trả lời mới về gia hạn thị thực."))
        assert saved.status_code == 303
        version, live = await repo.published_articles()
        live_vi = next(a for a in live if a.id == ARTICLE).translations["vi"]
        assert "Câu trả lời mới" not in live_vi.answer  # a draft never reaches residents
        assert ARTICLE in await repo.unpublished_articles()
        published = await client.post("/admin/publish", data={
            "csrf_token": await csrf_for(client), "note": "new visa text"})
        assert published.status_code == 303, published.text
    new_version, live = await repo.published_articles()
    assert new_version == version + 1
    assert next(a for a in live if a.id == ARTICLE).translations["vi"].answer == \
        "Câu trả lời mới về gia hạn thị thực."
    assert {"article.save", "publish"} <= set(await audit_actions(settings))


async def test_stale_revision_is_not_saved_over_a_newer_one(desk) -> None:
    settings, repo = desk
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        old = (await repo.get_article(ARTICLE)).revision
        csrf = await csrf_for(client)
        first = await client.post(f"/admin/articles/{ARTICLE}/text/vi",
                                  data=vietnamese_form(csrf, old, "Phiên bản một."))
        second = await client.post(f"/admin/articles/{ARTICLE}/text/vi",
                                   data=vietnamese_form(csrf, old, "Phiên bản hai."))
    assert first.status_code == 303 and second.status_code == 409
    assert (await repo.get_article(ARTICLE)).translations["vi"].answer == "Phiên bản một."


async def test_machine_draft_stays_machine_until_a_reviewer_approves(desk) -> None:
    settings, repo = desk
    async with web_client(settings, repo) as editor:
        await sign_in(editor, "eddie")
        drafted = await editor.post(f"/admin/articles/{ARTICLE}/text/pt/machine", data={
            "csrf_token": await csrf_for(editor), "overwrite": "true"})
        assert drafted.status_code == 303
        assert (await repo.get_article(ARTICLE)).statuses["pt"] == "machine"
        refused = await editor.post(f"/admin/articles/{ARTICLE}/text/pt/review",
                                    data={"csrf_token": await csrf_for(editor)})
        assert refused.status_code == 403
    async with web_client(settings, repo) as reviewer:
        await sign_in(reviewer, "rita")
        page = (await reviewer.get(f"/admin/articles/{ARTICLE}?lang=pt")).text
        assert "Mark reviewed" in page and "Save draft" not in page
        cannot_edit = await reviewer.post(f"/admin/articles/{ARTICLE}/text/pt", data={
            **vietnamese_form(await csrf_for(reviewer), 0, "x")})
        assert cannot_edit.status_code == 403
        approved = await reviewer.post(f"/admin/articles/{ARTICLE}/text/pt/review",
                                       data={"csrf_token": await csrf_for(reviewer)})
        assert approved.status_code == 303
    assert (await repo.get_article(ARTICLE)).statuses["pt"] == "curated"
    assert {"article.machine_draft", "article.review"} <= set(await audit_actions(settings))


async def test_history_shows_the_diff_and_rolls_back(desk) -> None:
    settings, repo = desk
    before = (await repo.get_article(ARTICLE)).translations["vi"].answer
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        draft = await repo.get_article(ARTICLE)
        await client.post(f"/admin/articles/{ARTICLE}/text/vi", data=vietnamese_form(
            await csrf_for(client), draft.revision, "Một câu <b>mới</b>."))
        history = (await client.get(f"/admin/articles/{ARTICLE}/history")).text
        assert "translations.vi.answer" in history
        assert "+Một câu &lt;b&gt;mới&lt;/b&gt;." in history
        rolled = await client.post(f"/admin/articles/{ARTICLE}/rollback", data={
            "csrf_token": await csrf_for(client), "number": str(draft.revision)})
        assert rolled.status_code == 303
    assert (await repo.get_article(ARTICLE)).translations["vi"].answer == before


async def test_counselor_sees_no_article_and_reviewer_cannot_publish(desk) -> None:
    settings, repo = desk
    async with web_client(settings, repo) as client:
        await sign_in(client, "carl")
        assert (await client.get(f"/admin/articles/{ARTICLE}")).status_code == 403
    async with web_client(settings, repo) as client:
        await sign_in(client, "rita")
        refused = await client.post("/admin/publish", data={"csrf_token": await csrf_for(client)})
        assert refused.status_code == 403


def unanswered(text: str, language: str) -> Turn:
    return Turn(update_id=1, chat_id=9, text=text, language=language, intent="out_of_scope",
                confidence=0.9, articles=[], answer_language=language, latency_ms=5.0)


async def test_inbox_adds_a_group_as_example_questions(desk) -> None:
    settings, repo = desk
    await add_rows(settings, unanswered("Can I extend my visa at the city hall?", "en"),
                    unanswered("Tôi có thể gia hạn visa ở tòa thị chính không?", "vi"))
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        page = (await client.get("/admin/inbox")).text
        assert "2 questions · en, vi" in page  # one group across two languages
        done = await client.post("/admin/inbox/example", data={
            "csrf_token": await csrf_for(client), "keys": ["turn:1", "turn:2"],
            "article_id": ARTICLE})
        assert done.status_code == 303
        assert "Nothing unanswered." in (await client.get("/admin/inbox")).text
    draft = await repo.get_article(ARTICLE)
    assert "Can I extend my visa at the city hall?" in draft.translations["en"].questions
    assert "Tôi có thể gia hạn visa ở tòa thị chính không?" in \
        draft.translations["vi"].questions


async def test_inbox_creates_an_article_from_a_group(desk) -> None:
    settings, repo = desk
    await add_rows(settings, unanswered("Where can I park my bicycle at the station?", "en"),
                    unanswered("Onde posso estacionar a bicicleta na estação?", "pt"))
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        csrf = await csrf_for(client)
        form = await client.post("/admin/inbox/article/draft",
                                 data={"csrf_token": csrf, "keys": ["turn:1", "turn:2"]})
        assert "Onde posso estacionar a bicicleta" in form.text
        created = await client.post("/admin/inbox/article", data={
            "csrf_token": csrf, "keys": ["turn:1", "turn:2"], "article_id": "bicycle-parking",
            "category": repo.categories()[0], "title": "Bicycle parking at stations",
            "answer": "Use the city's bicycle parking lots.", "details": "Fees vary.",
            "where": "Every station", "questions": "Where can I park my bicycle at the station?",
            "links": "Bicycle parking | https://www.city.hamamatsu.shizuoka.jp/",
            "sources": "City bicycle parking page"})
        assert created.status_code == 303
        inbox = (await client.get("/admin/inbox")).text
    draft = await repo.get_article("bicycle-parking")
    assert draft.statuses["en"] == "curated" and draft.statuses["pt"] == "missing"
    assert draft.links == [{"title": "Bicycle parking",
                            "url": "https://www.city.hamamatsu.shizuoka.jp/"}]
    assert "bicycle-parking" in await repo.unpublished_articles()
    # The Portuguese question waits in the inbox until the article has Portuguese text.
    assert "Onde posso estacionar" in inbox and "Where can I park" not in inbox


async def test_reviewer_sees_the_inbox_but_cannot_act_on_it(desk) -> None:
    settings, repo = desk
    await add_rows(settings, unanswered("Is there a ramen shop nearby?", "en"))
    async with web_client(settings, repo) as client:
        await sign_in(client, "rita")
        page = (await client.get("/admin/inbox")).text
        assert "ramen" in page and "Create an article from these" not in page
        refused = await client.post("/admin/inbox/dismiss", data={
            "csrf_token": await csrf_for(client), "keys": ["turn:1"]})
    assert refused.status_code == 403


async def test_editor_changes_links_and_sources(desk) -> None:
    settings, repo = desk
    draft = await repo.get_article(ARTICLE)
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        page = (await client.get(f"/admin/articles/{ARTICLE}?lang=en")).text
        assert draft.links[0]["url"] in page
        saved = await client.post(f"/admin/articles/{ARTICLE}/settings", data={
            "csrf_token": await csrf_for(client), "revision": str(draft.revision),
            "category": draft.category, "links": "Immigration | https://www.moj.go.jp/isa/",
            "sources": "Immigration Services Agency"})
        assert saved.status_code == 303
    changed = await repo.get_article(ARTICLE)
    assert changed.links == [{"title": "Immigration", "url": "https://www.moj.go.jp/isa/"}]
    assert changed.sources == ["Immigration Services Agency"]
    assert "article.update" in await audit_actions(settings)


async def test_a_repeated_question_is_added_once_and_resolved_everywhere(desk) -> None:
    settings, repo = desk
    question = "Can I renew my visa at the ward office?"
    await add_rows(settings, unanswered(question, "en"), unanswered(question, "en"))
    async with web_client(settings, repo) as client:
        await sign_in(client, "eddie")
        page = (await client.get("/admin/inbox")).text
        assert 'value="turn:2,turn:1"' in page and "× 2" in page
        await client.post("/admin/inbox/example", data={
            "csrf_token": await csrf_for(client), "keys": ["turn:2,turn:1"],
            "article_id": ARTICLE})
        assert "Nothing unanswered." in (await client.get("/admin/inbox")).text
    assert (await repo.get_article(ARTICLE)).translations["en"].questions.count(question) == 1
