"""The action server's knowledge base and translation service, one of each per process.

The knowledge base is the newest publication in the database, swapped in live when staff
publish (knowledge.live); residents never see unpublished drafts.
"""

from __future__ import annotations

from functools import lru_cache

from helpdesk.settings import get_settings
from knowledge.live import LiveKnowledgeBase
from knowledge.repository import open_repository
from knowledge.service import KnowledgeBase
from translation.service import TranslationService, default_service


@lru_cache(maxsize=1)
def live_knowledge() -> LiveKnowledgeBase:
    settings = get_settings()
    return LiveKnowledgeBase(open_repository(settings.db_url), settings.knowledge_embedder,
                             settings.cache_dir / "knowledge")


def knowledge_base() -> KnowledgeBase:
    """The newest published version. Take it once per request and keep it for the request."""
    return live_knowledge().current


@lru_cache(maxsize=1)
def translator() -> TranslationService:
    """Engines load their models on first use, so this costs nothing until a text is missing."""
    return default_service()
