"""Articles as data: the shape of `knowledge/content/*.yml`, in YAML or JSON, in and out.

The export form is the seed files' own form, so exporting a freshly seeded database gives the
files back. A translation that is not curated also carries `status:` and, once it has been
reviewed, `reviewed_source:` (the hash of the English it was reviewed against), so that importing
an export reproduces every status, stale ones included.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from knowledge.articles import SERVED_LANGUAGES, Category, TextStatus

Format = Literal["yaml", "json"]
TEXT_FIELDS = ("title", "answer", "details", "where")
ARTICLE_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class LinkData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    url: str


class TranslationData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    answer: str
    details: str
    where: str
    questions: list[str]
    status: TextStatus = TextStatus.CURATED
    reviewed_source: str | None = None

    @model_validator(mode="after")
    def _present(self) -> TranslationData:
        if self.status is TextStatus.MISSING:
            raise ValueError("a missing translation is left out, not written down")
        return self


class ArticleData(BaseModel):
    """An article in export form. Looser than `Article`: drafts may be unfinished."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(pattern=ARTICLE_ID)]
    category: Category
    last_reviewed: dt.date
    links: list[LinkData]
    sources: list[str]
    translations: dict[str, TranslationData] = Field(min_length=1)

    @model_validator(mode="after")
    def _languages(self) -> ArticleData:
        unknown = set(self.translations) - set(SERVED_LANGUAGES)
        if unknown:
            raise ValueError(f"unserved languages: {sorted(unknown)}")
        if "en" not in self.translations:
            raise ValueError("every article needs its English text: the others follow it")
        return self

    def as_data(self) -> dict[str, Any]:
        """The canonical export form (what `article_data` gives for the stored article)."""
        return {
            "id": self.id, "category": self.category.value, "last_reviewed": self.last_reviewed,
            "links": [{"title": link.title, "url": link.url} for link in self.links],
            "sources": list(self.sources),
            "translations": {language: translation_data(
                {f: getattr(text, f) for f in (*TEXT_FIELDS, "questions")}, text.status,
                text.reviewed_source) for language, text in self._ordered()},
        }

    def _ordered(self) -> list[tuple[str, TranslationData]]:
        return [(lang, self.translations[lang]) for lang in SERVED_LANGUAGES
                if lang in self.translations]


def translation_data(text: Mapping[str, Any], status: TextStatus, reviewed_source: str | None,
                     ) -> dict[str, Any]:
    data: dict[str, Any] = {f: text[f] for f in TEXT_FIELDS}
    data["questions"] = list(text["questions"])
    if status is not TextStatus.CURATED:
        data["status"] = status.value
        if reviewed_source is not None:
            data["reviewed_source"] = reviewed_source
    return data


def source_hash(english: Mapping[str, Any]) -> str:
    """What makes translations stale: the English text residents read. Example questions are
    left out: each language has its own, written as its residents type, not translated."""
    payload = json.dumps([english[f] for f in TEXT_FIELDS], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def digest(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
                          .encode()).hexdigest()[:16]


def parse_articles(items: Iterable[Mapping[str, Any]]) -> list[ArticleData]:
    """Raises ValueError (pydantic's ValidationError) naming the first bad article."""
    parsed: list[ArticleData] = []
    seen: set[str] = set()
    for item in items:
        article = ArticleData.model_validate(item)
        if article.id in seen:
            raise ValueError(f"article {article.id} appears twice")
        seen.add(article.id)
        parsed.append(article)
    return parsed


# --- text formats ----------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line text (details, where) stays readable as a block, as in the seed files.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _json_default(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_article(data: Mapping[str, Any]) -> str:
    """One article as a seed file (`<id>.yml`)."""
    return yaml.dump(dict(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def dumps(items: list[dict[str, Any]], fmt: Format) -> str:
    if fmt == "json":
        return json.dumps({"articles": items}, ensure_ascii=False, indent=2,
                          default=_json_default) + "\n"
    return yaml.dump({"articles": items}, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     width=100)


def loads(text: str, fmt: Format) -> list[dict[str, Any]]:
    data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    if isinstance(data, dict) and "articles" in data:
        data = data["articles"]
    if isinstance(data, dict):  # a single article, as in a seed file
        data = [data]
    if not isinstance(data, list):
        raise ValueError("expected {articles: [...]}, a list of articles or one article")
    return data


def format_of(path: Path) -> Format:
    return "json" if path.suffix == ".json" else "yaml"


def read_directory(directory: Path) -> list[dict[str, Any]]:
    """The seed files, one article each, named after its ID."""
    items = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("id") != path.stem:
            raise ValueError(f"{path.name}: id does not match the file name")
        items.append(data)
    return items


def write_directory(items: Iterable[Mapping[str, Any]], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for data in items:
        path = directory / f"{data['id']}.yml"
        path.write_text(dump_article(data), encoding="utf-8")
        paths.append(path)
    return paths
