"""The action server's one knowledge base, loaded once per process."""

from __future__ import annotations

from functools import lru_cache

from helpdesk.settings import get_settings
from knowledge.service import KnowledgeBase


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    settings = get_settings()
    return KnowledgeBase.load(settings.knowledge_embedder, settings.cache_dir / "knowledge")
