"""Machine translation engines behind one interface, with protection of numbers, addresses and
official terms, and a cache. `default_service()` is what the help desk uses."""

from translation.cache import CacheKey, TranslationCache
from translation.engines import (
    ArgosEngine,
    FastTranslateEngine,
    TranslationEngine,
    TranslationError,
    install_package,
)
from translation.glossary import Glossary
from translation.service import (
    Translated,
    TranslationService,
    UnsupportedPair,
    default_service,
)

__all__ = [
    "ArgosEngine",
    "CacheKey",
    "FastTranslateEngine",
    "Glossary",
    "Translated",
    "TranslationCache",
    "TranslationEngine",
    "TranslationError",
    "TranslationService",
    "UnsupportedPair",
    "default_service",
    "install_package",
]
