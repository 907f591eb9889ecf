"""The published knowledge base inside a long-running process (the action server).

It polls the newest publication's version, and when staff publish it loads the new snapshot,
embeds only the text that changed and swaps the whole KnowledgeBase in one assignment. A request
that already holds the previous KnowledgeBase finishes with it, so no request ever sees half of
one version and half of another, and none waits for the embedding.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from knowledge.articles import Article, load_articles
from knowledge.embedder import load_embedder
from knowledge.index import ArticleIndex
from knowledge.repository import KnowledgeRepository, NotFound
from knowledge.service import KnowledgeBase

log = logging.getLogger(__name__)


class LiveKnowledgeBase:
    def __init__(self, repository: KnowledgeRepository, embedder_spec: str, index_dir: Path,
                 ) -> None:
        self.repository = repository
        self.embedder_spec = embedder_spec
        self.index_dir = index_dir
        self._current: KnowledgeBase | None = None
        self._refreshing = asyncio.Lock()

    @property
    def current(self) -> KnowledgeBase:
        if self._current is None:
            raise RuntimeError("the knowledge base is not loaded yet: await start() first")
        return self._current

    async def start(self) -> KnowledgeBase:
        """Loads the newest publication; a fresh database is first seeded from the files."""
        await self.repository.create_schema()
        seeded = await self.repository.seed_if_empty()
        if seeded is not None:
            log.info("seeded the knowledge base from knowledge/content as version %s", seeded)
        version: int | None
        try:
            version, articles = await self.repository.published_articles()
        except NotFound:
            # Drafts exist (imported by hand) but were never published: residents get the
            # reviewed files until the first publication, never the drafts.
            log.warning("no knowledge base published yet; answering from knowledge/content")
            version, articles = None, load_articles()
        # Embedding is CPU-bound (minutes on a fresh machine): off the event loop.
        self._current = await asyncio.to_thread(self._load, articles, version)
        log.info("knowledge base version %s: %d articles", version, len(articles))
        return self._current

    def _load(self, articles: list[Article], version: int | None) -> KnowledgeBase:
        embedder = load_embedder(self.embedder_spec)
        index = ArticleIndex.load_or_build(articles, embedder, self.index_dir)
        return KnowledgeBase(articles, embedder, index, version)

    async def refresh(self) -> bool:
        """Swaps in the newest publication if there is a newer one; True when it did."""
        async with self._refreshing:
            current = self.current
            latest = await self.repository.published_version()
            if latest is None or (current.version is not None and latest <= current.version):
                return False
            version, articles = await self.repository.published_articles(latest)
            updated = await asyncio.to_thread(current.updated, articles, version,
                                              self.index_dir)
            self._current = updated
            log.info("knowledge base version %s → %s", current.version, version)
            return True

    async def poll(self, interval_s: float) -> None:
        """Refreshes every `interval_s` until cancelled; a failure keeps the current version."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not load the newest publication; still serving version "
                              "%s", self._current.version if self._current else None)
