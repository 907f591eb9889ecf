"""Machine translation between counselors and residents, only where an engine covers the pair.

The engines load lazily, on the first text that needs them: most counselor replies are written
in the resident's language and never touch them, and loading them would slow every bot start.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

import structlog

from bot.language import SERVED, detect

if TYPE_CHECKING:
    from translation.service import TranslationService

log = structlog.get_logger(__name__)

#: A Latin-script guess must be this sure before a reply is called "not in the resident's
#: language"; short replies ("OK", "Sim") are relayed as written rather than mistranslated.
SURE = 0.9
MIN_WORDS = 3


class Translator(Protocol):
    async def can_translate(self, src: str, tgt: str) -> bool: ...

    async def translate(self, text: str, src: str, tgt: str) -> str | None:
        """The machine translation, or None when the engine returned the text unchanged."""


class LazyTranslator:
    """translation.default_service(), built in a worker thread the first time it is needed."""

    def __init__(self) -> None:
        self._service: TranslationService | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> TranslationService:
        async with self._lock:
            if self._service is None:
                from translation.service import default_service
                self._service = await asyncio.to_thread(default_service)
            return self._service

    async def can_translate(self, src: str, tgt: str) -> bool:
        service = await self._get()
        return await asyncio.to_thread(service.supports, src, tgt)

    async def translate(self, text: str, src: str, tgt: str) -> str | None:
        translated = await (await self._get()).translate_async(text, src, tgt)
        return translated.text if translated.machine else None


def written_language(text: str) -> str | None:
    """The served language `text` is clearly written in, or None when it can't be told."""
    detection = detect(text)
    if not detection.served:
        return None
    if detection.method in ("script", "lexicon"):
        return detection.language
    if detection.confidence >= SURE and len(text.split()) >= MIN_WORDS:
        return detection.language
    return None


async def translate_if_possible(translator: Translator | None, text: str, source: str | None,
                                target: str) -> str | None:
    """`text` machine-translated into `target`, or None: no translator, same or unknown
    language, no engine for the pair, or the engine failed (callers then relay the original)."""
    if translator is None or source is None or source == target or target not in SERVED \
            or not text.strip():
        return None
    try:
        if not await translator.can_translate(source, target):
            return None
        return await translator.translate(text, source, target)
    except Exception as error:  # an engine failing must never stop the relay
        log.warning("machine_translation_failed", source=source, target=target,
                    error=repr(error))
        return None


async def translate_reply(translator: Translator | None, text: str,
                          resident_language: str) -> str | None:
    """A counselor's reply in the resident's language, when it was written in another one."""
    return await translate_if_possible(translator, text, written_language(text),
                                       resident_language)
