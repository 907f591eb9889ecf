"""The action server's one knowledge base and translation service, loaded once per process."""

from __future__ import annotations

from functools import lru_cache

from helpdesk.settings import get_settings
from knowledge.service import KnowledgeBase
from translation.service import TranslationService, default_service


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    settings = get_settings()
    return KnowledgeBase.load(settings.knowledge_embedder, settings.cache_dir / "knowledge")


@lru_cache(maxsize=1)
def translator() -> TranslationService:
    """Engines load their models on first use, so this costs nothing until a text is missing."""
    return default_service()
