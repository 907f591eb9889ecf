"""The bot's own fixed texts, per language, from `bot/locales/<language>.yml`.

A key missing in a language falls back to English, so a partly translated locale still works.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"


@cache
def _locale(language: str) -> dict[str, str]:
    path = LOCALES / f"{language}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def text(key: str, language: str, **values: object) -> str:
    template = _locale(language).get(key) or _locale(DEFAULT)[key]
    return template.format(**values) if values else template


def has_locale(language: str) -> bool:
    return (LOCALES / f"{language}.yml").exists()
