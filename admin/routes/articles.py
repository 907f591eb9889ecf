"""The knowledge base's pages, on the knowledge repository (knowledge/repository.py): list and
filter, side-by-side editing with the English source, review, machine drafts, history, publish.

The repository keeps revisions of the articles themselves; the audit log records who did what.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin import audit
from admin.permissions import Permission
from admin.web import DB, Staff, redirect, render, require, state
from knowledge.articles import SERVED_LANGUAGES
from knowledge.drafts import ArticleDraft, TranslationText
from knowledge.repository import (
    Conflict,
    KnowledgeRepository,
    MachineTranslationUnavailable,
    NotFound,
    PublishRefused,
)

router = APIRouter()
SOURCE = "en"
VIEW = Depends(require(Permission.VIEW_ARTICLES))
EDIT = Depends(require(Permission.EDIT_ARTICLES))
REVIEW = Depends(require(Permission.REVIEW))
PUBLISH = Depends(require(Permission.PUBLISH))

NOTICES = {"saved": "Saved as a draft. Residents see it after the next publish.",
           "reviewed": "Marked reviewed.", "machine": "Machine draft created: a reviewer must "
           "approve it.", "rolled-back": "Rolled back as a new revision (a draft until "
           "published).", "published": "Published: the bot answers from the new version within "
           "seconds.", "created": "Article created as a draft."}


def repository(request: Request) -> KnowledgeRepository:
    repo = state(request).knowledge
    if repo is None:
        raise HTTPException(503, "The knowledge base's database is not available.")
    return repo


#: A change refused by the repository: the article is gone, or someone saved a newer revision.
REFUSED = (NotFound, Conflict)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def links(text: str) -> list[dict[str, str]]:
    """"Title | https://…" lines, as editors type them."""
    found = []
    for line in lines(text):
        title, _, url = line.rpartition("|")
        found.append({"title": title.strip() or url.strip(), "url": url.strip()})
    return found


async def _draft_or_404(repo: KnowledgeRepository, article_id: str) -> ArticleDraft:

    try:
        return await repo.get_article(article_id)
    except NotFound as error:
        raise HTTPException(404, "No such article.") from error


@router.get("/articles")
async def article_list(request: Request, q: str = "", category: str = "", language: str = "",
                       status: str = "", notice: str = "", who: Staff = VIEW) -> Response:
    repo = repository(request)
    articles = await repo.list_articles(category=category or None, language=language or None,
                                        status=status or None, text=q or None)
    return render(request, "articles.html", articles=articles, q=q, category=category,
                  language=language, status=status, categories=repo.categories(),
                  languages=SERVED_LANGUAGES, statuses=["curated", "machine", "stale", "missing"],
                  unpublished=await repo.unpublished_articles(),
                  version=await repo.published_version(), notice=NOTICES.get(notice, ""))


@router.get("/articles/new")
async def new_article_form(request: Request, who: Staff = EDIT) -> Response:
    repo = repository(request)
    return render(request, "article_new.html", categories=repo.categories(), form={})


@router.post("/articles/new")
async def new_article(request: Request, article_id: str = Form(""), category: str = Form(""),
                      title: str = Form(""), answer: str = Form(""), details: str = Form(""),
                      where: str = Form(""), questions: str = Form(""),
                      link_lines: str = Form("", alias="links"),
                      source_lines: str = Form("", alias="sources"),
                      who: Staff = EDIT, session: AsyncSession = DB) -> Response:

    repo = repository(request)
    article_id = article_id.strip()
    text = TranslationText(title=title, answer=answer, details=details, where=where,
                           questions=lines(questions))
    try:
        await repo.create_article(article_id, category, text, author=who.user.username,
                                  links=links(link_lines), sources=lines(source_lines))
    except (*REFUSED, ValueError) as error:
        return render(request, "article_new.html", 422, categories=repo.categories(),
                      error=str(error), form={"article_id": article_id, "category": category,
                                              "title": title, "answer": answer,
                                              "details": details, "where": where,
                                              "questions": questions, "links": link_lines,
                                              "sources": source_lines})
    audit.record(session, who.user, "article.create", f"article:{article_id}", None,
                 {"category": category, "title": title})
    return redirect(request, f"/articles/{article_id}?lang=en&notice=created")


@router.get("/articles/{article_id}")
async def article_page(request: Request, article_id: str, lang: str = "vi", notice: str = "",
                       who: Staff = VIEW) -> Response:
    repo = repository(request)
    draft = await _draft_or_404(repo, article_id)
    if lang not in SERVED_LANGUAGES:
        lang = SOURCE
    return render(request, "article.html", article=draft, lang=lang,
                  source=draft.translations.get(SOURCE), text=draft.translations.get(lang),
                  status=draft.statuses.get(lang), languages=SERVED_LANGUAGES,
                  machine_languages=repo.machine_languages(SOURCE),
                  categories=repo.categories(), notice=NOTICES.get(notice, ""))


@router.post("/articles/{article_id}/text/{lang}")
async def save_text(request: Request, article_id: str, lang: str, title: str = Form(""),
                    answer: str = Form(""), details: str = Form(""), where: str = Form(""),
                    questions: str = Form(""), revision: int = Form(0),
                    approve: bool = Form(False), who: Staff = EDIT,
                    session: AsyncSession = DB) -> Response:

    repo = repository(request)
    if lang not in SERVED_LANGUAGES:
        raise HTTPException(404, "Not a served language.")
    if approve and not who.can(Permission.REVIEW):
        raise HTTPException(403, "Only reviewers approve translations.")
    draft = await _draft_or_404(repo, article_id)
    before = draft.translations.get(lang)
    text = TranslationText(title=title, answer=answer, details=details, where=where,
                           questions=lines(questions))
    try:
        await repo.save_translation(article_id, lang, text, author=who.user.username,
                                    reviewed=approve, base_revision=revision or None)
    except REFUSED as error:
        return render(request, "article.html", 409, article=draft, lang=lang,
                      source=draft.translations.get(SOURCE), text=text,
                      status=draft.statuses.get(lang), languages=SERVED_LANGUAGES,
                      machine_languages=repo.machine_languages(SOURCE),
                      error=f"Not saved: {error}. Someone else changed this article; reload it "
                            "and apply your edit again.")
    audit.record(session, who.user, "article.save", f"article:{article_id}/{lang}",
                 before.model_dump(include={"status", "title", "answer"}) if before else None,
                 {"title": title, "answer": answer, "approved": approve})
    return redirect(request, f"/articles/{article_id}?lang={lang}&notice=saved")


@router.post("/articles/{article_id}/text/{lang}/review")
async def mark_reviewed(request: Request, article_id: str, lang: str,
                        who: Staff = REVIEW, session: AsyncSession = DB) -> Response:
    repo = repository(request)
    draft = await _draft_or_404(repo, article_id)
    try:
        await repo.mark_reviewed(article_id, lang, author=who.user.username)
    except REFUSED as error:
        raise HTTPException(409, str(error)) from error
    audit.record(session, who.user, "article.review", f"article:{article_id}/{lang}",
                 {"status": str(draft.statuses.get(lang))}, {"status": "curated"})
    return redirect(request, f"/articles/{article_id}?lang={lang}&notice=reviewed")


@router.post("/articles/{article_id}/text/{lang}/machine")
async def machine_draft(request: Request, article_id: str, lang: str,
                        overwrite: bool = Form(False), who: Staff = EDIT,
                        session: AsyncSession = DB) -> Response:

    repo = repository(request)
    draft = await _draft_or_404(repo, article_id)
    try:
        await repo.machine_draft(article_id, lang, author=who.user.username,
                                 overwrite=overwrite)
    except (*REFUSED, MachineTranslationUnavailable) as error:
        raise HTTPException(409, f"No machine draft: {error}") from error
    audit.record(session, who.user, "article.machine_draft", f"article:{article_id}/{lang}",
                 {"status": str(draft.statuses.get(lang))}, {"status": "machine"})
    return redirect(request, f"/articles/{article_id}?lang={lang}&notice=machine")


@router.post("/articles/{article_id}/settings")
async def save_settings(request: Request, article_id: str, category: str = Form(""),
                        link_lines: str = Form("", alias="links"),
                        source_lines: str = Form("", alias="sources"), revision: int = Form(0),
                        who: Staff = EDIT, session: AsyncSession = DB) -> Response:
    repo = repository(request)
    draft = await _draft_or_404(repo, article_id)
    after = {"category": category, "links": links(link_lines), "sources": lines(source_lines)}
    try:
        await repo.update_article(article_id, author=who.user.username, **after,
                                  base_revision=revision or None)
    except (*REFUSED, ValueError) as error:
        raise HTTPException(409, f"Not saved: {error}") from error
    audit.record(session, who.user, "article.update", f"article:{article_id}",
                 {"category": draft.category, "links": draft.links, "sources": draft.sources},
                 after)
    return redirect(request, f"/articles/{article_id}?lang=en&notice=saved")


@router.get("/articles/{article_id}/history")
async def history(request: Request, article_id: str, old: int | None = None,
                  new: int | None = None, notice: str = "",
                  who: Staff = VIEW) -> Response:
    repo = repository(request)
    draft = await _draft_or_404(repo, article_id)
    revisions = await repo.revisions(article_id)
    if new is None and revisions:
        new = revisions[0].number
    if old is None and len(revisions) > 1:
        old = revisions[1].number
    diff = await repo.diff(article_id, old, new) if old and new else []
    return render(request, "history.html", article=draft, revisions=revisions, diff=diff,
                  old=old, new=new, notice=NOTICES.get(notice, ""))


@router.post("/articles/{article_id}/rollback")
async def rollback(request: Request, article_id: str, number: int = Form(...),
                   who: Staff = EDIT, session: AsyncSession = DB) -> Response:
    repo = repository(request)
    draft = await _draft_or_404(repo, article_id)
    try:
        await repo.rollback(article_id, number, author=who.user.username)
    except REFUSED as error:
        raise HTTPException(409, str(error)) from error
    audit.record(session, who.user, "article.rollback", f"article:{article_id}",
                 {"revision": draft.revision}, {"restored": number})
    return redirect(request, f"/articles/{article_id}/history?notice=rolled-back")


@router.get("/publish")
async def publish_page(request: Request, who: Staff = VIEW) -> Response:
    repo = repository(request)
    return render(request, "publish.html", unpublished=await repo.unpublished_articles(),
                  problems=await repo.validate_drafts(), version=await repo.published_version(),
                  publications=await repo.publications(limit=20))


@router.post("/publish")
async def publish(request: Request, note: str = Form(""), who: Staff = PUBLISH,
                  session: AsyncSession = DB) -> Response:

    repo = repository(request)
    changed = await repo.unpublished_articles()
    try:
        info = await repo.publish(author=who.user.username, note=note)
    except PublishRefused as refused:
        return render(request, "publish.html", 422, unpublished=changed,
                      problems=refused.problems, version=await repo.published_version(),
                      publications=await repo.publications(limit=20),
                      error="Not published: fix these problems first.")
    audit.record(session, who.user, "publish", f"version:{info.version}", None,
                 {"articles": changed, "note": note})
    return redirect(request, "/articles?notice=published")
