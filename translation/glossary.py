"""The official terms of knowledge/glossary.yml, matched in source text for machine translation."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

GLOSSARY_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "glossary.yml"

# Scripts without spaces between words: a term may sit right next to other letters.
_UNSPACED = {"ja", "zh", "th", "ko"}
_TRAILING_PAREN = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    renderings: dict[str, str]

    def variants(self, language: str) -> list[str]:
        """The forms that count as this term in `language`: the rendering, and the rendering
        without its trailing bracket ("certificate of residence (juminhyo)" is also found as
        "certificate of residence")."""
        rendering = self.renderings.get(language)
        if not rendering:
            return []
        forms = [rendering]
        short = _TRAILING_PAREN.sub("", rendering)
        if short != rendering and len(short) >= 4:
            forms.append(short)
        return forms


def _parse_terms(text: str) -> list[Term]:
    entries = (yaml.safe_load(text) or {}).get("terms") or []
    return [Term(str(entry["term"]), {key: str(value).strip() for key, value in entry.items()
                                      if key not in ("term", "keep") and str(value).strip()})
            for entry in entries]


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    term: Term


@dataclass
class Glossary:
    terms: list[Term]
    digest: str = ""
    _patterns: dict[str, re.Pattern[str] | None] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path = GLOSSARY_FILE) -> Glossary:
        raw = path.read_bytes()
        return cls(_parse_terms(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()[:12])

    @classmethod
    def empty(cls) -> Glossary:
        return cls([], "none")

    @cached_property
    def _by_form(self) -> dict[tuple[str, str], Term]:
        forms: dict[tuple[str, str], Term] = {}
        for term in self.terms:
            for language in term.renderings:
                for form in term.variants(language):
                    forms.setdefault((language, form.casefold()), term)
        return forms

    def _pattern(self, language: str) -> re.Pattern[str] | None:
        if language not in self._patterns:
            forms = sorted({form for term in self.terms for form in term.variants(language)},
                           key=len, reverse=True)
            if not forms:
                self._patterns[language] = None
            else:
                # Longest first, so "My Number card" wins over "My Number".
                alternatives = "|".join(re.escape(form) for form in forms)
                edge = ("", "") if language in _UNSPACED else (r"(?<!\w)", r"(?!\w)")
                self._patterns[language] = re.compile(
                    f"{edge[0]}(?:{alternatives}){edge[1]}", re.IGNORECASE)
        return self._patterns[language]

    def find(self, text: str, language: str) -> list[Match]:
        pattern = self._pattern(language)
        if pattern is None:
            return []
        return [Match(found.start(), found.end(),
                      self._by_form[language, found.group(0).casefold()])
                for found in pattern.finditer(text)]

    def render(self, term: Term, language: str) -> str | None:
        return term.renderings.get(language)
