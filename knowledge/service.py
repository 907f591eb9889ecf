"""The knowledge base as the actions see it: search, and each article's text in a language."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.articles import Article, Translation, load_articles
from knowledge.embedder import Embedder, load_embedder
from knowledge.index import ArticleIndex, Hit

#: Where a resident's language has no text, these are shown instead (English and Easy Japanese).
FALLBACK_LANGUAGES = ("en", "ja")


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    latency_ms: float


class KnowledgeBase:
    def __init__(self, articles: list[Article], embedder: Embedder, index: ArticleIndex) -> None:
        self.articles = {article.id: article for article in articles}
        self.embedder = embedder
        self.index = index

    @classmethod
    def load(cls, embedder_spec: str, index_dir: Path, content_dir: Path | None = None,
             ) -> KnowledgeBase:
        articles = load_articles(content_dir) if content_dir else load_articles()
        embedder = load_embedder(embedder_spec)
        return cls(articles, embedder, ArticleIndex.load_or_build(articles, embedder, index_dir))

    def search(self, query: str, k: int = 5) -> SearchResult:
        started = time.perf_counter()
        hits = self.index.search(self.embedder.queries([query])[0], k)
        return SearchResult(hits, (time.perf_counter() - started) * 1000)

    def text(self, article_id: str, language: str) -> tuple[Translation, str]:
        """The article's text in `language`, else in the first fallback language it has."""
        return self.texts(article_id, language)[0]

    def texts(self, article_id: str, language: str) -> list[tuple[Translation, str]]:
        """The article in `language`; where it has none, in every fallback language it has."""
        article = self.articles[article_id]
        if language in article.translations:
            return [(article.translations[language], language)]
        shown = [(article.translations[c], c) for c in FALLBACK_LANGUAGES
                 if c in article.translations]
        if not shown:
            raise LookupError(f"{article_id} has no text to show")
        return shown
