"""What the knowledge repository hands to the staff admin: drafts, statuses, history, versions.

These are plain pydantic models, so the admin web app can return them as JSON as they are. Draft
text is deliberately unconstrained: staff may save half-finished work, and only publishing checks
it against the `Article` schema residents are served from.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from knowledge.articles import TextStatus


class TranslationText(BaseModel):
    """One language's text as an editor submits it."""

    model_config = ConfigDict(extra="forbid")
    title: str
    answer: str
    details: str
    where: str
    questions: list[str]


class TranslationDraft(TranslationText):
    language: str
    status: TextStatus
    updated_at: dt.datetime | None = None
    updated_by: str | None = None
    reviewed_at: dt.datetime | None = None
    reviewed_by: str | None = None


class ArticleSummary(BaseModel):
    id: str
    category: str
    title: str
    #: Every served language, "missing" included, in the order a language picker shows them.
    statuses: dict[str, TextStatus]
    revision: int
    updated_at: dt.datetime | None
    updated_by: str | None
    #: The draft differs from what residents are shown now.
    unpublished: bool


class ArticleDraft(BaseModel):
    id: str
    category: str
    last_reviewed: dt.date
    links: list[dict[str, str]]
    sources: list[str]
    translations: dict[str, TranslationDraft]
    statuses: dict[str, TextStatus]
    revision: int
    updated_at: dt.datetime | None
    updated_by: str | None
    unpublished: bool


class RevisionInfo(BaseModel):
    article_id: str
    number: int
    action: str
    author: str
    created_at: dt.datetime
    note: str


class FieldDiff(BaseModel):
    """One changed field between two revisions: `field` is a dotted path such as
    "translations.vi.answer"; `lines` is difflib's unified diff of the two values."""

    field: str
    before: str | None
    after: str | None
    lines: list[str]


class PublicationInfo(BaseModel):
    version: int
    published_by: str
    published_at: dt.datetime
    note: str
    article_count: int


class Problem(BaseModel):
    article_id: str
    message: str


class ImportReport(BaseModel):
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    deleted: list[str] = []
