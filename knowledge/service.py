"""The knowledge base as the actions see it: search, and each article's text in a language."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from knowledge.articles import SERVED_LANGUAGES, Article, TextStatus, Translation, load_articles
from knowledge.embedder import Embedder, load_embedder
from knowledge.index import ArticleIndex, Hit

#: Where a resident's language has no text, these are shown instead (English and Easy Japanese).
FALLBACK_LANGUAGES = ("en", "ja")


class _Text(Protocol):
    text: str


class Translator(Protocol):
    """What the knowledge base needs of a translation service (translation.TranslationService)."""

    def supports(self, src: str, tgt: str) -> bool: ...

    def translate(self, text: str, src: str, tgt: str) -> _Text: ...


@dataclass(frozen=True, slots=True)
class Shown:
    """What a resident is shown of an article: curated text in their language; else a labelled
    machine translation with its original; else English and Easy Japanese."""

    texts: list[tuple[Translation, str]]
    machine: bool = False
    original: tuple[Translation, str] | None = None
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    latency_ms: float


class KnowledgeBase:
    """One version of the knowledge base, never changed once built: a newer publication gets a
    new instance (`updated`), so a request holding this one reads consistent articles."""

    def __init__(self, articles: list[Article], embedder: Embedder, index: ArticleIndex,
                 version: int | None = None) -> None:
        self.articles = {article.id: article for article in articles}
        self.embedder = embedder
        self.index = index
        #: The publication these articles come from; None when read from the seed files.
        self.version = version

    def updated(self, articles: list[Article], version: int | None,
                index_dir: Path | None = None) -> KnowledgeBase:
        """The knowledge base for `articles`: only their new or changed text is embedded. With
        `index_dir`, the index is saved there too, so a restart loads it instead of rebuilding.
        """
        index = self.index.updated(articles, self.embedder)
        if index_dir is not None:
            index.save(articles, self.embedder, index_dir)
            ArticleIndex.prune(index_dir)
        return KnowledgeBase(articles, self.embedder, index, version)

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

    def shown(self, article_id: str, language: str, translator: Translator | None = None,
              ) -> Shown:
        article = self.articles[article_id]
        own = article.translations.get(language)
        # Stale text was written by a person and reviewed against earlier English: it is shown
        # as it is, not replaced by a machine translation of the new English.
        if own is not None and own.status in (TextStatus.CURATED, TextStatus.STALE):
            return Shown([(own, language)])
        if translator is not None and language in SERVED_LANGUAGES:
            # English first: it is the best-reviewed text and every engine pairs with it.
            for source in ("en", *SERVED_LANGUAGES):
                text = article.translations.get(source)
                curated = text is not None and text.status is TextStatus.CURATED
                if source != language and curated and translator.supports(source, language):
                    return Shown([(machine_translation(text, source, language, translator),
                                   language)], machine=True, original=(text, source))
        if own is not None:  # an unreviewed machine draft is still better than another language
            return Shown([(own, language)], machine=True)
        return Shown(self.texts(article_id, language), fallback=True)

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


def machine_translation(text: Translation, source: str, target: str,
                        translator: Translator) -> Translation:
    """The chat-facing fields of `text`, machine-translated and marked as such. Built without
    validation: a translation may run past the curated answer's length limit; it is shown whole.
    """
    def translated(value: str) -> str:
        return translator.translate(value, source, target).text

    return Translation.model_construct(
        status=TextStatus.MACHINE, title=translated(text.title), answer=translated(text.answer),
        details=text.details, where=translated(text.where), questions=text.questions)
