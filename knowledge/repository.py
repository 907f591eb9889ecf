"""The knowledge base in the database: what staff edit, review, roll back and publish.

Residents never read these drafts. They are served from publications: validated snapshots of
every article, numbered 1, 2, 3…; the action server polls for the newest one (knowledge.live).
Every change to an article is recorded as a revision holding the whole article afterwards, so
any two revisions can be compared and any revision restored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from knowledge import db
from knowledge.articles import CONTENT_DIR, SERVED_LANGUAGES, Article, Category, TextStatus
from knowledge.db import ArticleRow, PublicationRow, RevisionRow, TranslationRow, utcnow
from knowledge.drafts import (
    ArticleDraft,
    ArticleSummary,
    FieldDiff,
    ImportReport,
    Problem,
    PublicationInfo,
    RevisionInfo,
    TranslationDraft,
    TranslationText,
)
from knowledge.exchange import (
    TEXT_FIELDS,
    ArticleData,
    digest,
    parse_articles,
    read_directory,
    source_hash,
    translation_data,
)

SEED_AUTHOR = "seed"


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """Someone else saved the article since the editor loaded it, or the change would destroy
    reviewed text."""


class PublishRefused(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems; nothing was published")
        self.problems = problems


class MachineTranslationUnavailable(LookupError):
    pass


class _Text(Protocol):
    text: str


class Translator(Protocol):
    """What drafting by machine translation needs (translation.TranslationService)."""

    def supports(self, src: str, tgt: str) -> bool: ...

    def translate(self, text: str, src: str, tgt: str) -> _Text: ...


# --- rows ↔ data ------------------------------------------------------------------------------


def article_data(row: ArticleRow) -> dict[str, Any]:
    """The stored article in export form (knowledge.exchange)."""
    by_language = {t.language: t for t in row.translations}
    return {
        "id": row.id, "category": row.category, "last_reviewed": row.last_reviewed,
        "links": [dict(link) for link in row.links], "sources": list(row.sources),
        "translations": {
            language: translation_data(_text_of(t), TextStatus(t.status), t.source_hash)
            for language in SERVED_LANGUAGES if (t := by_language.get(language))},
    }


def _text_of(row: TranslationRow) -> dict[str, Any]:
    return {"title": row.title, "answer": row.answer, "details": row.details,
            "where": row.where, "questions": list(row.questions)}


def _english_hash(row: ArticleRow) -> str | None:
    english = _translation(row, "en")
    return source_hash(_text_of(english)) if english else None


def _translation(row: ArticleRow, language: str) -> TranslationRow | None:
    return next((t for t in row.translations if t.language == language), None)


def _statuses(row: ArticleRow) -> dict[str, TextStatus]:
    by_language = {t.language: TextStatus(t.status) for t in row.translations}
    return {language: by_language.get(language, TextStatus.MISSING)
            for language in SERVED_LANGUAGES}


def _restatus(row: ArticleRow) -> None:
    """Translations reviewed against other English than the current one are stale; ones whose
    English came back to what they were reviewed against are curated again."""
    current = _english_hash(row)
    for text in row.translations:
        if text.language == "en":
            continue
        if text.status == TextStatus.CURATED and text.source_hash != current:
            text.status = TextStatus.STALE
        elif text.status == TextStatus.STALE and text.source_hash == current:
            text.status = TextStatus.CURATED


def _apply(row: ArticleRow, data: Mapping[str, Any], author: str) -> None:
    """Makes `row` hold `data` (export form), statuses and review hashes included."""
    now = utcnow()
    row.category = str(data["category"])
    row.last_reviewed = _date(data["last_reviewed"])
    row.links = [dict(link) for link in data["links"]]
    row.sources = list(data["sources"])
    english = data["translations"].get("en")
    english_hash = source_hash(english) if english else None
    existing = {t.language: t for t in row.translations}
    kept = []
    for language, text in data["translations"].items():
        status = TextStatus(text.get("status", TextStatus.CURATED))
        reviewed = text.get("reviewed_source")
        if status is TextStatus.CURATED:  # curated text was reviewed against today's English
            reviewed = english_hash if language != "en" else None
        values = {**{f: text[f] for f in TEXT_FIELDS}, "questions": list(text["questions"]),
                  "status": status.value, "source_hash": reviewed}
        target = existing.get(language)
        if target is None:
            target = TranslationRow(language=language, updated_by=author, updated_at=now)
        elif any(getattr(target, key) != value for key, value in values.items()):
            target.updated_by, target.updated_at = author, now
        for key, value in values.items():
            setattr(target, key, value)
        kept.append(target)
    row.translations = kept


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "last_reviewed": str(data["last_reviewed"])}


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def published_article(data: Mapping[str, Any]) -> Article:
    """The draft as residents would be served it; raises ValidationError when it is not fit."""
    translations = {}
    for language, text in data["translations"].items():
        translations[language] = {key: value for key, value in text.items()
                                  if key != "reviewed_source"}
    return Article.model_validate({**data, "translations": translations})


def _problems(article_id: str, error: ValidationError) -> list[Problem]:
    return [Problem(article_id=article_id,
                    message=f"{'.'.join(str(p) for p in e['loc']) or 'article'}: {e['msg']}")
            for e in error.errors()]


# --- diffs ------------------------------------------------------------------------------------


def _flatten(data: Mapping[str, Any] | None) -> dict[str, str]:
    """Every field of an export-form article as text, one line per list item."""
    if not data:
        return {}
    fields = {"category": str(data["category"]), "last_reviewed": str(data["last_reviewed"]),
              "links": "\n".join(f"{link['title']} <{link['url']}>" for link in data["links"]),
              "sources": "\n".join(data["sources"])}
    for language, text in data["translations"].items():
        prefix = f"translations.{language}"
        fields[f"{prefix}.status"] = str(text.get("status", TextStatus.CURATED.value))
        for name in TEXT_FIELDS:
            fields[f"{prefix}.{name}"] = text[name]
        fields[f"{prefix}.questions"] = "\n".join(text["questions"])
    return fields


def field_diffs(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
                old_label: str, new_label: str) -> list[FieldDiff]:
    before, after = _flatten(old), _flatten(new)
    diffs = []
    for name in [*before, *(n for n in after if n not in before)]:
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        lines = list(difflib.unified_diff((a or "").splitlines(), (b or "").splitlines(),
                                          f"{old_label}/{name}", f"{new_label}/{name}",
                                          lineterm=""))
        diffs.append(FieldDiff(field=name, before=a, after=b, lines=lines))
    return diffs


# --- the repository ---------------------------------------------------------------------------


class KnowledgeRepository:
    """Async API over the knowledge-base tables; `author` is whoever acts (a username)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 translator: Translator | None = None, *, engine: AsyncEngine | None = None,
                 ) -> None:
        self.sessions = sessions
        self.translator = translator
        self._engine = engine

    async def create_schema(self) -> None:
        engine = self._engine or self.sessions.kw["bind"]
        await db.create_schema(engine)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    # --- reading --------------------------------------------------------------------------

    @staticmethod
    def categories() -> list[str]:
        return [c.value for c in Category]

    def machine_languages(self, source: str = "en") -> list[str]:
        if self.translator is None:
            return []
        return [lang for lang in SERVED_LANGUAGES
                if lang != source and self.translator.supports(source, lang)]

    async def list_articles(self, *, category: str | None = None, language: str | None = None,
                            status: TextStatus | str | None = None, text: str | None = None,
                            ) -> list[ArticleSummary]:
        wanted = TextStatus(status) if status is not None else None
        needle = text.casefold().strip() if text else None
        async with self.sessions() as session:
            query = select(ArticleRow).order_by(ArticleRow.id)
            if category:
                query = query.where(ArticleRow.category == category)
            rows = list(await session.scalars(query))
            published = await self._published_digests(session)
        summaries = []
        for row in rows:
            statuses = _statuses(row)
            if wanted is not None:
                if language is not None and statuses.get(language) is not wanted:
                    continue
                if language is None and wanted not in statuses.values():
                    continue
            if needle and not _mentions(row, needle, language):
                continue
            english = _translation(row, "en")
            summaries.append(ArticleSummary(
                id=row.id, category=row.category, title=english.title if english else row.id,
                statuses=statuses, revision=row.revision, updated_at=row.updated_at,
                updated_by=row.updated_by,
                unpublished=published.get(row.id) != digest(article_data(row))))
        return summaries

    async def get_article(self, article_id: str) -> ArticleDraft:
        async with self.sessions() as session:
            row = await self._row(session, article_id)
            return self._draft(row, await self._published_digests(session))

    async def export_articles(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.scalars(select(ArticleRow).order_by(ArticleRow.id))
            return [article_data(row) for row in rows]

    # --- writing --------------------------------------------------------------------------

    async def create_article(self, article_id: str, category: str, english: TranslationText, *,
                             author: str, links: list[dict[str, str]], sources: list[str],
                             last_reviewed: dt.date | None = None, note: str = "",
                             ) -> ArticleDraft:
        data = ArticleData.model_validate({
            "id": article_id, "category": category,
            "last_reviewed": last_reviewed or dt.date.today(), "links": links,
            "sources": sources, "translations": {"en": english.model_dump()}}).as_data()

        async def change(session: AsyncSession, row: ArticleRow | None) -> ArticleRow:
            if row is not None:
                raise Conflict(f"article {article_id} exists")
            row = ArticleRow(id=article_id, updated_by=author)
            _apply(row, data, author)
            session.add(row)
            return row

        return await self._change(article_id, "create", author, note, change, must_exist=False)

    async def update_article(self, article_id: str, *, author: str, category: str | None = None,
                             links: list[dict[str, str]] | None = None,
                             sources: list[str] | None = None,
                             last_reviewed: dt.date | None = None, note: str = "",
                             base_revision: int | None = None) -> ArticleDraft:
        async def change(session: AsyncSession, row: ArticleRow) -> ArticleRow:
            data = article_data(row)
            for key, value in (("category", category), ("links", links), ("sources", sources),
                               ("last_reviewed", last_reviewed)):
                if value is not None:
                    data[key] = value
            _apply(row, ArticleData.model_validate(data).as_data(), author)
            return row

        return await self._change(article_id, "update", author, note, change, base_revision)

    async def save_translation(self, article_id: str, language: str, text: TranslationText, *,
                               author: str, note: str = "", reviewed: bool = False,
                               base_revision: int | None = None) -> ArticleDraft:
        _check_language(language)

        async def change(session: AsyncSession, row: ArticleRow) -> ArticleRow:
            target = _translation(row, language)
            if target is None:
                target = TranslationRow(language=language, status=TextStatus.CURATED.value)
                row.translations.append(target)
            for key, value in text.model_dump().items():
                setattr(target, key, value)
            target.updated_by, target.updated_at = author, utcnow()
            if language == "en":
                target.status, target.source_hash = TextStatus.CURATED.value, None
                _restatus(row)
            elif reviewed or target.status == TextStatus.CURATED:
                _review(row, target, author)
            return row

        return await self._change(article_id, "save", author, note, change, base_revision)

    async def mark_reviewed(self, article_id: str, language: str, *, author: str,
                            note: str = "") -> ArticleDraft:
        _check_language(language)
        async with self.sessions() as session:
            row = await self._row(session, article_id)
            target = _translation(row, language)
            if target is None:
                raise NotFound(f"{article_id} has no {language} text to review")
            if target.status == TextStatus.CURATED and (
                    language == "en" or target.source_hash == _english_hash(row)):
                return self._draft(row, await self._published_digests(session))

        async def change(session: AsyncSession, row: ArticleRow) -> ArticleRow:
            target = _translation(row, language)
            if target is None:
                raise NotFound(f"{article_id} has no {language} text to review")
            _review(row, target, author)
            return row

        return await self._change(article_id, "review", author, note, change)

    async def machine_draft(self, article_id: str, language: str, *, author: str,
                            source: str = "en", note: str = "", overwrite: bool = False,
                            ) -> ArticleDraft:
        """The source language's text machine-translated into `language`, as status "machine":
        residents see it only labelled as machine translation until a reviewer approves it."""
        _check_language(language)
        translator = self.translator
        if translator is None or source == language or not translator.supports(source, language):
            raise MachineTranslationUnavailable(f"no machine translation {source}→{language}")
        draft = await self.get_article(article_id)
        original = draft.translations.get(source)
        if original is None:
            raise NotFound(f"{article_id} has no {source} text to translate")
        current = draft.translations.get(language)
        if current is not None and current.status is TextStatus.CURATED and not overwrite:
            raise Conflict(f"{article_id}/{language} is curated; pass overwrite=True to replace")
        # The engines are CPU-bound: translating in a thread keeps the admin's event loop free.
        translated = await asyncio.to_thread(_translate_text, original, source, language,
                                             translator)

        async def change(session: AsyncSession, row: ArticleRow) -> ArticleRow:
            target = _translation(row, language)
            if target is None:
                target = TranslationRow(language=language)
                row.translations.append(target)
            for key, value in translated.items():
                setattr(target, key, value)
            target.status, target.source_hash = TextStatus.MACHINE.value, None
            target.reviewed_at = target.reviewed_by = None
            target.updated_by, target.updated_at = author, utcnow()
            return row

        return await self._change(article_id, "machine", author,
                                  note or f"machine translation from {source}", change,
                                  draft.revision)

    async def add_question(self, article_id: str, language: str, question: str, *,
                           author: str, note: str = "") -> ArticleDraft:
        question = " ".join(question.split())
        if not question:
            raise ValueError("an example question needs text")

        async def change(session: AsyncSession, row: ArticleRow) -> ArticleRow:
            target = _translation(row, language)
            if target is None:
                raise NotFound(f"{article_id} has no {language} text")
            if question.casefold() not in {q.casefold() for q in target.questions}:
                target.questions = [*target.questions, question]
                target.updated_by, target.updated_at = author, utcnow()
            return row

        return await self._change(article_id, "question", author, note, change)

    async def delete_article(self, article_id: str, *, author: str, note: str = "") -> None:
        async with self.sessions.begin() as session:
            row = await self._row(session, article_id)
            number = await self._next_number(session, article_id)
            session.add(RevisionRow(article_id=article_id, number=number, action="delete",
                                    author=author, note=note, snapshot=None))
            await session.delete(row)

    # --- history --------------------------------------------------------------------------

    async def revisions(self, article_id: str) -> list[RevisionInfo]:
        async with self.sessions() as session:
            rows = await session.scalars(select(RevisionRow)
                                         .where(RevisionRow.article_id == article_id)
                                         .order_by(RevisionRow.number.desc()))
            return [_revision_info(r) for r in rows]

    async def revision_snapshot(self, article_id: str, number: int) -> dict[str, Any] | None:
        async with self.sessions() as session:
            return (await self._revision(session, article_id, number)).snapshot

    async def diff(self, article_id: str, old: int, new: int) -> list[FieldDiff]:
        async with self.sessions() as session:
            before = await self._revision(session, article_id, old)
            after = await self._revision(session, article_id, new)
        return field_diffs(before.snapshot, after.snapshot, f"r{old}", f"r{new}")

    async def rollback(self, article_id: str, number: int, *, author: str, note: str = "",
                       ) -> ArticleDraft:
        """Restores revision `number` as a new revision; nothing in the history is lost."""
        async with self.sessions() as session:
            snapshot = (await self._revision(session, article_id, number)).snapshot
        if snapshot is None:
            raise Conflict(f"revision {number} of {article_id} is a deletion")

        async def change(session: AsyncSession, row: ArticleRow | None) -> ArticleRow:
            if row is None:  # rolling back a deletion brings the article back
                row = ArticleRow(id=article_id, updated_by=author)
                session.add(row)
            _apply(row, snapshot, author)
            return row

        return await self._change(article_id, "rollback", author,
                                  note or f"rollback to revision {number}", change,
                                  must_exist=False)

    # --- publishing -----------------------------------------------------------------------

    async def validate_drafts(self) -> list[Problem]:
        async with self.sessions() as session:
            rows = list(await session.scalars(select(ArticleRow).order_by(ArticleRow.id)))
        return [p for row in rows for p in _check(row)[1]]

    async def publish(self, *, author: str, note: str = "") -> PublicationInfo:
        """Validates every draft and, only when all pass, makes them what residents see."""
        async with self.sessions.begin() as session:
            rows = list(await session.scalars(select(ArticleRow).order_by(ArticleRow.id)))
            checked = [_check(row) for row in rows]
            problems = [p for _, found in checked for p in found]
            if problems:
                raise PublishRefused(problems)
            if not rows:
                raise PublishRefused([Problem(article_id="", message="no articles")])
            latest = await session.scalar(select(func.max(PublicationRow.version)))
            publication = PublicationRow(
                version=(latest or 0) + 1, published_by=author, note=note,
                published_at=utcnow(),
                articles=[a.model_dump(mode="json") for a, _ in checked if a is not None],
                digests={row.id: digest(article_data(row)) for row in rows})
            session.add(publication)
            try:
                await session.flush()
            except IntegrityError as error:
                raise Conflict("someone else published at the same moment; try again") \
                    from error
            return _publication_info(publication)

    async def published_version(self) -> int | None:
        async with self.sessions() as session:
            return await session.scalar(select(func.max(PublicationRow.version)))

    async def publications(self, limit: int = 20) -> list[PublicationInfo]:
        async with self.sessions() as session:
            rows = await session.scalars(select(PublicationRow)
                                         .order_by(PublicationRow.version.desc()).limit(limit))
            return [_publication_info(row) for row in rows]

    async def published_articles(self, version: int | None = None) -> tuple[int, list[Article]]:
        """(version, articles) of publication `version`, by default the newest."""
        async with self.sessions() as session:
            query = select(PublicationRow)
            query = query.where(PublicationRow.version == version) if version is not None else \
                query.order_by(PublicationRow.version.desc()).limit(1)
            row = await session.scalar(query)
            if row is None:
                raise NotFound(f"no publication {version or ''}".strip())
            return row.version, [Article.model_validate(a) for a in row.articles]

    async def unpublished_articles(self) -> list[str]:
        async with self.sessions() as session:
            published = await self._published_digests(session)
            current = {row.id: digest(article_data(row))
                       for row in await session.scalars(select(ArticleRow))}
        return sorted(i for i in current.keys() | published.keys()
                      if current.get(i) != published.get(i))

    # --- import, export, seed -------------------------------------------------------------

    async def import_articles(self, items: Iterable[Mapping[str, Any]], *, author: str,
                              note: str = "import", replace: bool = False,
                              action: str = "import") -> ImportReport:
        """Creates or updates every article in `items` (export form), one revision for each
        that changed; with `replace`, articles not in `items` are deleted. All or nothing."""
        incoming = [article.as_data() for article in parse_articles(items)]
        report = ImportReport()
        async with self.sessions.begin() as session:
            rows = {row.id: row for row in await session.scalars(select(ArticleRow))}
            for data in incoming:
                row = rows.get(data["id"])
                if row is not None and article_data(row) == data:
                    report.unchanged.append(data["id"])
                    continue
                if row is None:
                    row = ArticleRow(id=data["id"], updated_by=author)
                    session.add(row)
                    report.created.append(data["id"])
                else:
                    report.updated.append(data["id"])
                _apply(row, data, author)
                await self._record(session, row, action, author, note)
            if replace:
                for article_id in sorted(rows.keys() - {d["id"] for d in incoming}):
                    number = await self._next_number(session, article_id)
                    session.add(RevisionRow(article_id=article_id, number=number,
                                            action="delete", author=author, note=note,
                                            snapshot=None))
                    await session.delete(rows[article_id])
                    report.deleted.append(article_id)
        return report

    async def seed_if_empty(self, content_dir: Path = CONTENT_DIR, *,
                            author: str = SEED_AUTHOR) -> int | None:
        """On a fresh database: the seed files become the drafts and publication 1. Returns
        the version published, or None when the database already had content."""
        if await self.published_version() is not None or await self._has_articles():
            return None
        try:
            await self.import_articles(read_directory(content_dir), author=author,
                                       note=f"seeded from {content_dir.name}/", action="seed")
            publication = await self.publish(author=author, note="seed")
        except (IntegrityError, Conflict, DBAPIError):
            # Another process (the admin, a second action server) seeded at the same moment.
            if await self.published_version() is not None:
                return None
            raise
        return publication.version

    # --- internals ------------------------------------------------------------------------

    async def _has_articles(self) -> bool:
        async with self.sessions() as session:
            return bool(await session.scalar(select(func.count()).select_from(ArticleRow)))

    async def _row(self, session: AsyncSession, article_id: str) -> ArticleRow:
        row = await session.get(ArticleRow, article_id)
        if row is None:
            raise NotFound(f"no article {article_id}")
        return row

    async def _revision(self, session: AsyncSession, article_id: str, number: int,
                        ) -> RevisionRow:
        row = await session.scalar(select(RevisionRow).where(
            RevisionRow.article_id == article_id, RevisionRow.number == number))
        if row is None:
            raise NotFound(f"no revision {number} of {article_id}")
        return row

    async def _published_digests(self, session: AsyncSession) -> dict[str, str]:
        digests = await session.scalar(select(PublicationRow.digests)
                                       .order_by(PublicationRow.version.desc()).limit(1))
        return dict(digests or {})

    @staticmethod
    async def _next_number(session: AsyncSession, article_id: str) -> int:
        latest = await session.scalar(select(func.max(RevisionRow.number))
                                      .where(RevisionRow.article_id == article_id))
        return (latest or 0) + 1

    async def _record(self, session: AsyncSession, row: ArticleRow, action: str, author: str,
                      note: str) -> None:
        row.revision = await self._next_number(session, row.id)
        row.updated_by, row.updated_at = author, utcnow()
        session.add(RevisionRow(article_id=row.id, number=row.revision, action=action,
                                author=author, note=note, snapshot=_jsonable(article_data(row))))

    async def _change(self, article_id: str, action: str, author: str, note: str,
                      change: Callable[..., Any], base_revision: int | None = None, *,
                      must_exist: bool = True) -> ArticleDraft:
        """Runs `change` on the article in one transaction and records the revision."""
        try:
            async with self.sessions.begin() as session:
                row = await session.get(ArticleRow, article_id)
                if row is None and must_exist:
                    raise NotFound(f"no article {article_id}")
                if base_revision is not None and row is not None and \
                        row.revision != base_revision:
                    raise Conflict(f"{article_id} is at revision {row.revision}, not "
                                   f"{base_revision}: someone else saved it meanwhile")
                before = article_data(row) if row is not None else None
                row = await change(session, row)
                if article_data(row) != before:
                    await self._record(session, row, action, author, note)
                await session.flush()
        except IntegrityError as error:  # the same revision number, saved concurrently
            raise Conflict(f"{article_id} was saved by someone else at the same moment") \
                from error
        return await self.get_article(article_id)

    def _draft(self, row: ArticleRow, published: Mapping[str, str]) -> ArticleDraft:
        translations = {
            t.language: TranslationDraft(
                language=t.language, status=TextStatus(t.status), **_text_of(t),
                updated_at=t.updated_at, updated_by=t.updated_by, reviewed_at=t.reviewed_at,
                reviewed_by=t.reviewed_by)
            for language in SERVED_LANGUAGES if (t := _translation(row, language))}
        data = article_data(row)
        return ArticleDraft(
            id=row.id, category=row.category, last_reviewed=row.last_reviewed,
            links=data["links"], sources=data["sources"], translations=translations,
            statuses=_statuses(row), revision=row.revision, updated_at=row.updated_at,
            updated_by=row.updated_by, unpublished=published.get(row.id) != digest(data))


def _check_language(language: str) -> None:
    if language not in SERVED_LANGUAGES:
        raise ValueError(f"{language} is not a served language")


def _review(row: ArticleRow, target: TranslationRow, author: str) -> None:
    target.status = TextStatus.CURATED.value
    target.source_hash = _english_hash(row) if target.language != "en" else None
    target.reviewed_by, target.reviewed_at = author, utcnow()


def _check(row: ArticleRow) -> tuple[Article | None, list[Problem]]:
    try:
        return published_article(article_data(row)), []
    except ValidationError as error:
        return None, _problems(row.id, error)


def _mentions(row: ArticleRow, needle: str, language: str | None) -> bool:
    if needle in row.id:
        return True
    for text in row.translations:
        if language is not None and text.language != language:
            continue
        if any(needle in value.casefold()
               for value in (text.title, text.answer, text.details, text.where, *text.questions)):
            return True
    return False


def _translate_text(original: TranslationText, source: str, target: str,
                    translator: Translator) -> dict[str, Any]:
    def lines(value: str) -> str:
        # Line by line, keeping "- " list markers, so the details keep their shape.
        out = []
        for line in value.split("\n"):
            marker = "- " if line.startswith("- ") else ""
            body = line[len(marker):]
            out.append(marker + (translator.translate(body, source, target).text
                                 if body.strip() else body))
        return "\n".join(out)

    return {"title": lines(original.title), "answer": lines(original.answer),
            "details": lines(original.details), "where": lines(original.where),
            "questions": [translator.translate(q, source, target).text
                          for q in original.questions]}


def _revision_info(row: RevisionRow) -> RevisionInfo:
    return RevisionInfo(article_id=row.article_id, number=row.number, action=row.action,
                        author=row.author, created_at=row.created_at, note=row.note)


def _publication_info(row: PublicationRow) -> PublicationInfo:
    return PublicationInfo(version=row.version, published_by=row.published_by,
                           published_at=row.published_at, note=row.note,
                           article_count=len(row.articles))


def open_repository(url: str, translator: Translator | None = None) -> KnowledgeRepository:
    """A repository on its own engine (closed by `close()`), for the admin app and the CLI."""
    engine = db.create_engine(url)
    return KnowledgeRepository(db.sessionmaker(engine), translator, engine=engine)
