"""The knowledge base in the database: seed, import/export, statuses, revisions, publishing."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from actions import answer
from knowledge import db, exchange
from knowledge.articles import CONTENT_DIR, SERVED_LANGUAGES, TextStatus
from knowledge.drafts import TranslationText
from knowledge.index import ArticleIndex
from knowledge.repository import (
    Conflict,
    KnowledgeRepository,
    MachineTranslationUnavailable,
    PublishRefused,
    open_repository,
)
from knowledge.service import KnowledgeBase
from tests.test_actions import NoEmbedder, meta_of, run, tracker
from translation.engines import FastTranslateEngine
from translation.service import TranslationService

ENGLISH_PORTUGUESE = TranslationService([FastTranslateEngine()], cache=None)
FIELDS = {"title", "answer", "details", "where", "questions"}


@pytest.fixture(scope="module")
def seed_files() -> list[dict]:
    return exchange.read_directory(CONTENT_DIR)


async def fresh(path: Path, translator: TranslationService | None = None,
                ) -> KnowledgeRepository:
    repository = open_repository(f"sqlite+aiosqlite:///{path}", translator)
    await repository.create_schema()
    return repository


async def scratch_postgres(url: str, translator: TranslationService) -> KnowledgeRepository:
    engine = db.create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(db.Base.metadata.drop_all)
    repository = KnowledgeRepository(db.sessionmaker(engine), translator, engine=engine)
    await repository.create_schema()
    return repository


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[KnowledgeRepository]:
    # Set KNOWLEDGE_TEST_DATABASE_URL (postgresql+asyncpg://…, a scratch database: its kb_
    # tables are dropped) to run these tests against PostgreSQL; the default is SQLite.
    url = os.environ.get("KNOWLEDGE_TEST_DATABASE_URL")
    repository = await scratch_postgres(url, ENGLISH_PORTUGUESE) if url else \
        await fresh(tmp_path / "kb.db", ENGLISH_PORTUGUESE)
    assert await repository.seed_if_empty() == 1
    yield repository
    await repository.close()


def text_of(draft, language: str) -> TranslationText:
    return TranslationText(**draft.translations[language].model_dump(include=FIELDS))


async def edit(repo: KnowledgeRepository, article_id: str, language: str, author: str = "ana",
               **changes: object) -> object:
    draft = await repo.get_article(article_id)
    text = text_of(draft, language).model_copy(update=changes)
    return await repo.save_translation(article_id, language, text, author=author)


# --- seed, import, export ---------------------------------------------------------------------


async def test_a_seeded_database_exports_exactly_the_seed_files(repo: KnowledgeRepository,
                                                               seed_files: list[dict]) -> None:
    exported = await repo.export_articles()
    assert len(exported) == len(seed_files) == 40
    assert {a["id"]: a for a in exported} == {a["id"]: a for a in seed_files}
    assert await repo.published_version() == 1
    assert await repo.seed_if_empty() is None, "a database with content is never seeded again"
    assert await repo.unpublished_articles() == []


@pytest.mark.parametrize("fmt", ["yaml", "json"])
async def test_import_of_an_export_reproduces_the_database(repo: KnowledgeRepository,
                                                           tmp_path: Path, fmt: str,
                                                           seed_files: list[dict]) -> None:
    # Statuses other than curated must travel too: a stale, a machine and a missing language.
    await edit(repo, "garbage-sorting", "en", answer="Put rubbish out by 8:00 am.")
    await repo.machine_draft("bank-account", "pt", author="mt", overwrite=True)
    data = next(a for a in await repo.export_articles() if a["id"] == "pension")
    del data["translations"]["th"]
    assert (await repo.import_articles([data], author="ana")).updated == ["pension"]
    before = await repo.export_articles()

    text = exchange.dumps(before, fmt)
    if fmt == "json":  # plain JSON, as another tool would read it
        assert json.loads(text)["articles"][0]["last_reviewed"] == "2026-11-24"
    copy = await fresh(tmp_path / f"copy-{fmt}.db")
    try:
        report = await copy.import_articles(exchange.loads(text, fmt), author="ana")
        assert len(report.created) == 40
        assert await copy.export_articles() == before
        for article_id in ("garbage-sorting", "bank-account", "pension"):
            assert (await copy.get_article(article_id)).statuses == \
                (await repo.get_article(article_id)).statuses
        assert (await copy.get_article("garbage-sorting")).statuses["vi"] is TextStatus.STALE
        assert (await copy.get_article("bank-account")).statuses["pt"] is TextStatus.MACHINE
        assert (await copy.get_article("pension")).statuses["th"] is TextStatus.MISSING
        # Importing the same export again changes nothing and records no revision.
        again = await copy.import_articles(exchange.loads(text, fmt), author="ana")
        assert len(again.unchanged) == 40
        assert [r.number for r in await copy.revisions("pension")] == [1]
    finally:
        await copy.close()


async def test_export_folder_round_trips_the_seed_files(repo: KnowledgeRepository,
                                                        tmp_path: Path,
                                                        seed_files: list[dict]) -> None:
    exchange.write_directory(await repo.export_articles(), tmp_path / "content")
    assert exchange.read_directory(tmp_path / "content") == seed_files


async def test_import_refuses_bad_data_and_replace_deletes(repo: KnowledgeRepository) -> None:
    exported = await repo.export_articles()
    broken = {**exported[0], "translations": {"xx": exported[0]["translations"]["en"]}}
    with pytest.raises(ValueError, match="unserved"):
        await repo.import_articles([broken], author="ana")
    report = await repo.import_articles(exported[:39], author="ana", replace=True)
    assert report.deleted == [exported[39]["id"]] and len(report.unchanged) == 39
    assert await repo.unpublished_articles() == [exported[39]["id"]]


# --- statuses ---------------------------------------------------------------------------------


async def test_changing_english_makes_translations_stale_until_reviewed(
        repo: KnowledgeRepository) -> None:
    original = (await repo.get_article("residence-card")).translations["en"].answer
    draft = await edit(repo, "residence-card", "en", answer=original + " Keep a copy.")
    assert draft.statuses["en"] is TextStatus.CURATED
    assert {draft.statuses[lang] for lang in SERVED_LANGUAGES if lang != "en"} == \
        {TextStatus.STALE}
    stale = await repo.list_articles(language="vi", status="stale")
    assert [s.id for s in stale] == ["residence-card"]

    reviewed = await repo.mark_reviewed("residence-card", "vi", author="lan")
    assert reviewed.statuses["vi"] is TextStatus.CURATED
    assert reviewed.translations["vi"].reviewed_by == "lan"
    assert reviewed.statuses["pt"] is TextStatus.STALE
    # Editing a stale translation without approving it leaves it stale.
    edited = await edit(repo, "residence-card", "ko", title="재류카드")
    assert edited.statuses["ko"] is TextStatus.STALE

    # English back as it was: translations reviewed against that text are current again.
    back = await edit(repo, "residence-card", "en", answer=original)
    assert back.statuses["pt"] is TextStatus.CURATED and back.statuses["ko"] is TextStatus.CURATED
    # …but vi was reviewed against the changed English, so now it is the stale one.
    assert back.statuses["vi"] is TextStatus.STALE
    # Example questions are not translated from English: adding one stales nothing.
    added = await repo.add_question("residence-card", "en", "where do i renew my card",
                                    author="ana")
    assert added.statuses["pt"] is TextStatus.CURATED
    assert "where do i renew my card" in added.translations["en"].questions


async def test_machine_draft_lands_as_machine_and_is_never_shown_unlabelled(
        repo: KnowledgeRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    assert repo.machine_languages() == ["pt"]
    with pytest.raises(MachineTranslationUnavailable):
        await repo.machine_draft("bank-account", "vi", author="mt")
    with pytest.raises(Conflict):  # curated text is never silently replaced
        await repo.machine_draft("bank-account", "pt", author="mt")
    english = (await repo.get_article("bank-account")).translations["en"]
    draft = await repo.machine_draft("bank-account", "pt", author="mt", overwrite=True)
    portuguese = draft.translations["pt"]
    assert draft.statuses["pt"] is TextStatus.MACHINE
    assert portuguese.title and portuguese.title != english.title
    assert portuguese.details.count("\n- ") == english.details.count("\n- ")
    assert [r.action for r in await repo.revisions("bank-account")][:1] == ["machine"]
    # A machine draft in a language no engine serves (as an import could bring) stays labelled.
    data = next(a for a in await repo.export_articles() if a["id"] == "bank-account")
    data["translations"]["vi"]["status"] = "machine"
    await repo.import_articles([data], author="ana")
    await repo.publish(author="ana")

    _, articles = await repo.published_articles()
    kb = KnowledgeBase(articles, NoEmbedder(),
                       ArticleIndex([], np.zeros((0, 384), dtype=np.float32)))
    for language in ("pt", "vi"):
        assert kb.articles["bank-account"].status(language) is TextStatus.MACHINE
        assert kb.shown("bank-account", language).machine
        assert kb.shown("bank-account", language, ENGLISH_PORTUGUESE).machine
        monkeypatch.setattr(answer, "knowledge_base", lambda: kb)
        monkeypatch.setattr(answer, "translator", lambda: ENGLISH_PORTUGUESE)
        picked = [{"entity": "article", "value": "bank-account"}]
        messages = await run(answer.ActionAnswerQuestion(),
                             tracker(language, "/ask_question", picked))
        assert messages[0]["response"] == "utter_machine_translated"
        assert meta_of(messages)["machine_translated"] is True

    approved = await repo.mark_reviewed("bank-account", "pt", author="rita")
    assert approved.statuses["pt"] is TextStatus.CURATED


# --- revisions --------------------------------------------------------------------------------


async def test_revision_diff_and_rollback(repo: KnowledgeRepository) -> None:
    before = next(a for a in await repo.export_articles() if a["id"] == "pension")
    vi = (await repo.get_article("pension")).translations["vi"]
    await edit(repo, "pension", "vi", author="lan", answer=vi.answer + "\nDòng mới.")
    await repo.update_article("pension", author="ana", sources=[*before["sources"], "new note"])
    history = await repo.revisions("pension")
    assert [(r.number, r.action, r.author) for r in history] == [
        (3, "update", "ana"), (2, "save", "lan"), (1, "seed", "seed")]

    diffs = {d.field: d for d in await repo.diff("pension", 1, 3)}
    assert set(diffs) == {"translations.vi.answer", "sources"}
    assert "+Dòng mới." in diffs["translations.vi.answer"].lines
    assert diffs["sources"].lines[-1] == "+new note"

    restored = await repo.rollback("pension", 1, author="ana")
    assert restored.revision == 4
    assert (await repo.revisions("pension"))[0].action == "rollback"
    assert next(a for a in await repo.export_articles() if a["id"] == "pension") == before
    assert await repo.diff("pension", 1, 4) == []
    with pytest.raises(Conflict):  # someone saved since revision 2 was loaded
        await repo.save_translation("pension", "vi", text_of(restored, "vi"), author="x",
                                    base_revision=2)


async def test_a_deleted_article_comes_back_by_rollback(repo: KnowledgeRepository) -> None:
    await repo.delete_article("mobile-phone", author="ana")
    assert "mobile-phone" not in [a.id for a in await repo.list_articles()]
    assert (await repo.revisions("mobile-phone"))[0].action == "delete"
    back = await repo.rollback("mobile-phone", 1, author="ana")
    assert back.revision == 3 and back.statuses["th"] is TextStatus.CURATED


# --- listing, creating ------------------------------------------------------------------------


async def test_list_filters_by_category_status_and_text(repo: KnowledgeRepository) -> None:
    health = await repo.list_articles(category="health")
    assert health and {a.category for a in health} == {"health"}
    assert [a.id for a in await repo.list_articles(text="rubbish COLLECTION calendar")] == \
        ["garbage-sorting"]
    assert await repo.list_articles(text="rubbish collection calendar", language="vi") == []
    assert await repo.list_articles(status="missing") == []
    english = TranslationText(title="Pets", answer="Register your dog at the ward office.",
                              details="- Rabies shot every year.", where="Ward office",
                              questions=["how do i register my dog"])
    created = await repo.create_article("pet-registration", "daily-life", english, author="ana",
                                        links=[{"title": "City", "url": "https://example.org/"}],
                                        sources=["city site"], last_reviewed=dt.date(2026, 1, 2))
    assert created.statuses["en"] is TextStatus.CURATED and created.unpublished
    assert created.statuses["ja"] is TextStatus.MISSING
    missing_ja = await repo.list_articles(language="ja", status="missing")
    assert [a.id for a in missing_ja] == ["pet-registration"]
    with pytest.raises(Conflict):
        await repo.create_article("pet-registration", "daily-life", english, author="ana",
                                  links=[], sources=[])
    # A person's first Japanese text is curated, reviewed against today's English.
    ja = await repo.save_translation("pet-registration", "ja", english, author="yuki")
    assert ja.statuses["ja"] is TextStatus.CURATED


# --- publishing -------------------------------------------------------------------------------


async def test_drafts_reach_residents_only_when_published(repo: KnowledgeRepository) -> None:
    await edit(repo, "garbage-sorting", "vi", title="Phân loại rác (bản nháp)")
    _, live = await repo.published_articles()
    published = {a.id: a for a in live}["garbage-sorting"].translations["vi"].title
    assert published != "Phân loại rác (bản nháp)"
    assert await repo.unpublished_articles() == ["garbage-sorting"]
    info = await repo.publish(author="ana", note="vi title")
    assert (info.version, info.article_count, info.published_by) == (2, 40, "ana")
    version, live = await repo.published_articles()
    assert version == 2
    assert {a.id: a for a in live}["garbage-sorting"].translations["vi"].title == \
        "Phân loại rác (bản nháp)"
    assert await repo.unpublished_articles() == []
    assert [p.version for p in await repo.publications()] == [2, 1]


async def test_publish_refuses_invalid_drafts(repo: KnowledgeRepository) -> None:
    await edit(repo, "visa-renewal", "pt", answer="x" * 701)
    await edit(repo, "my-number", "en", title="  ", questions=[])
    problems = await repo.validate_drafts()
    assert {(p.article_id, p.message.split(":")[0]) for p in problems} == {
        ("visa-renewal", "translations.pt.answer"), ("my-number", "translations.en.title"),
        ("my-number", "translations.en.questions")}
    with pytest.raises(PublishRefused) as refused:
        await repo.publish(author="ana")
    assert refused.value.problems == problems
    assert await repo.published_version() == 1
    _, live = await repo.published_articles()
    assert len({a.id: a for a in live}["visa-renewal"].translations["pt"].answer) <= 700


def test_command_line_seeds_exports_and_imports(tmp_path: Path, seed_files: list[dict],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from knowledge.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert main(["seed", "--db", url]) == 0
    assert main(["export", "--db", url, "--out", str(tmp_path / "kb.json")]) == 0
    assert main(["export", "--db", url, "--out", str(tmp_path / "folder")]) == 0
    assert exchange.read_directory(tmp_path / "folder") == seed_files
    exported = exchange.loads((tmp_path / "kb.json").read_text(encoding="utf-8"), "json")
    exported[0]["translations"]["vi"]["title"] = "Mở tài khoản ngân hàng (mới)"
    (tmp_path / "kb.yml").write_text(exchange.dumps(exported, "yaml"), encoding="utf-8")
    capsys.readouterr()
    assert main(["import", "--db", url, str(tmp_path / "kb.yml"), "--publish"]) == 0
    assert "updated 1, unchanged 39" in capsys.readouterr().err
    assert main(["export", "--db", url, "--format", "yaml"]) == 0
    assert "Mở tài khoản ngân hàng (mới)" in capsys.readouterr().out
    exported[1]["translations"]["xx"] = exported[1]["translations"]["en"]
    (tmp_path / "bad.json").write_text(exchange.dumps(exported, "json"), encoding="utf-8")
    assert main(["import", "--db", url, str(tmp_path / "bad.json")]) == 1
