"""Which language a resident writes in, from short chat messages.

Scripts decide first (kana, Hangul, Thai, Devanagari and Han are unambiguous); Latin-script text
goes to py3langid restricted to the served languages, because unrestricted detectors call Nepali
"Hindi" and Indonesian "Malay". Romanized Nepali and Vietnamese typed without accents look like
nothing py3langid knows, so a small lexicon of their frequent words catches them first.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SERVED = ("en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th")
UNDETERMINED = "und"
#: Below this py3langid probability, a word that only one language uses overrides its guess.
SURE = 0.9
LATIN_SERVED = ("en", "pt", "vi", "es", "tl", "id", "ms")

# Unicode ranges of scripts with one obvious language (or one we must recognise as unserved).
SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ja", r"[\u3040-\u30ff\u31f0-\u31ff]"),  # hiragana, katakana
    ("ko", r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    ("th", r"[\u0e00-\u0e7f]"),
    ("ne", r"[\u0900-\u097f]"),
    ("my", r"[\u1000-\u109f]"),
    ("si", r"[\u0d80-\u0dff]"),
    ("km", r"[\u1780-\u17ff]"),
    ("bn", r"[\u0980-\u09ff]"),
    ("ar", r"[\u0600-\u06ff]"),
    ("ru", r"[\u0400-\u04ff]"),
    ("zh", r"[\u4e00-\u9fff\u3400-\u4dbf]"),
)
_SCRIPT_PATTERNS = [(code, re.compile(pattern)) for code, pattern in SCRIPTS]

LEXICONS = Path(__file__).parent / "data" / "latin_lexicons.json"
# Short words shared with English/Spanish/Indonesian that alone prove nothing.
_WEAK = frozenset({"ma", "ko", "ki", "ra", "le", "a", "o", "the", "can", "ho", "em", "cho"})


@dataclass(frozen=True, slots=True)
class Detection:
    language: str  # ISO 639-1 where one exists; unserved scripts keep their own code
    confidence: float
    method: str  # "script" | "lexicon" | "langid" | "none"

    @property
    def served(self) -> bool:
        return self.language in SERVED


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LATIN_SERVED))
    return identifier


@lru_cache(maxsize=1)
def _lexicons() -> dict[str, frozenset[str]]:
    """Words of romanized Nepali and accentless Vietnamese, learned by `bot.lexicon_build`."""
    data = json.loads(LEXICONS.read_text(encoding="utf-8"))
    return {language: frozenset(words) for language, words in data.items()}


def _script(text: str) -> str | None:
    counts = {code: len(p.findall(text)) for code, p in _SCRIPT_PATTERNS}
    if counts["ja"]:
        return "ja"  # Japanese mixes kana with Han; any kana means Japanese
    code, count = max(counts.items(), key=lambda item: item[1])
    return code if count else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.casefold())


def _has_letters(text: str) -> bool:
    return any(unicodedata.category(c).startswith("L") for c in text)


def detect(text: str) -> Detection:
    if not _has_letters(text):
        return Detection(UNDETERMINED, 0.0, "none")
    script = _script(text)
    if script:
        return Detection(script, 1.0, "script")
    words = _words(text)
    strong = [w for w in words if w not in _WEAK]
    hits = {language: sum(w in lexicon for w in strong)
            for language, lexicon in _lexicons().items()}
    ranked = sorted(hits.items(), key=lambda item: item[1], reverse=True)
    (best, count), runner_up = ranked[0], ranked[1][1]
    # py3langid knows neither romanized Nepali nor accentless Vietnamese: their words decide.
    if best in ("ne", "vi") and count >= 1 and count > runner_up and \
            (count >= 2 or len(strong) <= 3):
        return Detection(best, min(1.0, 0.5 + 0.15 * count), "lexicon")
    language, probability = _identifier().classify(text)
    language = "id" if language == "ms" else language
    # On two or three words py3langid guesses; a word only one language uses is better evidence.
    if probability < SURE and count >= 1 and count > runner_up and best != language:
        return Detection(best, 0.5 + 0.1 * count, "lexicon")
    return Detection(language, float(probability), "langid")
