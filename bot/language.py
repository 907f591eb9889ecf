"""Which language a resident writes in, from short chat messages.

Scripts decide first (kana, Hangul, Thai, Devanagari and Han are unambiguous); Latin-script text
goes to py3langid restricted to the served languages, because unrestricted detectors call Nepali
"Hindi" and Indonesian "Malay". Romanized Nepali and Vietnamese typed without accents look like
nothing py3langid knows, so a small lexicon of their frequent words catches them first.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SERVED = ("en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th")
UNDETERMINED = "und"
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

ROMANIZED_NEPALI = frozenset([
    "garne", "garna", "garnu", "kasari", "kaha", "kahaa", "kati", "cha", "chha", "chaina",
    "chhaina", "ho", "hoina", "mero", "malai", "hajur", "paincha", "pauna", "milcha",
    "milchha", "bhayo", "bhaeko", "gareko", "namaste", "dhanyabad", "dhanyavad", "kun",
    "kina", "kasto", "ma", "lai", "le", "ko", "ki", "ra", "pani", "aba", "sanga", "kura",
    "manche", "garnuparcha", "parcha", "bhanera", "huncha", "hunchha", "tapai", "tapaai",
    "timi", "hamro"
])
ACCENTLESS_VIETNAMESE = frozenset([
    "toi", "ban", "khong", "duoc", "dau", "lam", "sao", "the", "nao", "muon", "can", "gi",
    "cho", "nay", "nhe", "a", "oi", "cam", "on", "xin", "chao", "o", "voi", "nguoi", "viec",
    "giup", "minh", "tui", "em", "anh", "chi", "biet", "hoi", "ve", "nhu", "nhieu", "bao",
    "gia", "han", "dang", "ky", "hiem", "rac", "thue", "tien", "luong"
])
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
    ne_hits = sum(w in ROMANIZED_NEPALI for w in strong)
    vi_hits = sum(w in ACCENTLESS_VIETNAMESE for w in strong)
    if max(ne_hits, vi_hits) >= 2 or (len(strong) <= 3 and max(ne_hits, vi_hits) >= 1):
        language = "ne" if ne_hits > vi_hits else "vi" if vi_hits > ne_hits else ""
        if language:
            return Detection(language, min(1.0, 0.5 + 0.15 * max(ne_hits, vi_hits)), "lexicon")
    language, probability = _identifier().classify(text)
    return Detection("id" if language == "ms" else language, float(probability), "langid")
