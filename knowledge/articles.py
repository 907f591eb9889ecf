"""The knowledge-base article: its schema, and loading the seed files in `knowledge/content/`."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

CONTENT_DIR = Path(__file__).parent / "content"

#: Every language the help desk serves, in the order a language picker shows them.
SERVED_LANGUAGES: tuple[str, ...] = (
    "en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th")
#: Languages whose residents are numerous enough that each article carries more example questions.
MAJOR_LANGUAGES: frozenset[str] = frozenset({"en", "ja", "pt", "vi", "ne"})
SHORT_ANSWER_LIMIT = 700

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class TextStatus(StrEnum):
    """How a language's text came to be; residents only see `machine` text with a label."""

    CURATED = "curated"
    MACHINE = "machine"
    #: Reviewed once, but the English source changed since; still a person's translation.
    STALE = "stale"
    MISSING = "missing"


class Category(StrEnum):
    REGISTRATION = "registration"
    HEALTH = "health"
    PENSION_TAX = "pension-tax"
    EMERGENCY = "emergency"
    DAILY_LIFE = "daily-life"
    FAMILY = "family"
    EDUCATION = "education"
    HOUSING = "housing"
    WORK = "work"
    TRANSPORT = "transport"
    SUPPORT = "support"


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text
    url: HttpUrl


class Translation(BaseModel):
    """One language's text of an article, written for residents who read that language."""

    model_config = ConfigDict(extra="forbid")
    status: TextStatus = TextStatus.CURATED
    title: Text
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=SHORT_ANSWER_LIMIT)]
    details: Text
    where: Text
    questions: list[Text] = Field(min_length=1)


class Article(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    category: Category
    last_reviewed: dt.date
    links: list[Link] = Field(min_length=1)
    sources: list[Text] = Field(min_length=1)
    translations: dict[str, Translation]

    @model_validator(mode="after")
    def _served_languages_only(self) -> Article:
        unknown = set(self.translations) - set(SERVED_LANGUAGES)
        if unknown:
            raise ValueError(f"unserved languages: {sorted(unknown)}")
        if "en" not in self.translations:
            raise ValueError("every article needs its English text")
        return self

    def status(self, language: str) -> TextStatus:
        text = self.translations.get(language)
        return text.status if text else TextStatus.MISSING


def load_article(path: Path) -> Article:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    article = Article.model_validate(data)
    if article.id != path.stem:
        raise ValueError(f"{path.name}: id {article.id!r} does not match the file name")
    return article


def load_articles(directory: Path = CONTENT_DIR) -> list[Article]:
    return [load_article(path) for path in sorted(directory.glob("*.yml"))]
