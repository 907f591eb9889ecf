"""The unanswered-questions inbox and what staff do with a group of questions: turn it into a new
article, add it to an article as example questions, or dismiss it."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin import audit, inbox
from admin.permissions import Permission
from admin.routes.articles import lines, links, repository
from admin.web import DB, Staff, redirect, render, require, state
from knowledge.articles import SERVED_LANGUAGES
from knowledge.drafts import TranslationText
from knowledge.repository import Conflict, NotFound

router = APIRouter()
RESOLVE = Depends(require(Permission.RESOLVE_INBOX))
VIEW = Depends(require(Permission.VIEW_INBOX))
#: The inbox items a form posted ("turn:12", "ticket:3").
KEYS = Form(default_factory=list)
SOURCE = "en"


@router.get("/inbox")
async def inbox_page(request: Request, days: int = 30,
                     who: Staff = VIEW,
                     session: AsyncSession = DB) -> Response:
    admin = state(request)
    items = await inbox.open_items(session, max(1, min(days, 365)),
                                   admin.settings.admin_low_confidence)
    groups = []
    if items:
        embedder = await admin.embedder()
        groups = await asyncio.to_thread(inbox.group, items, embedder)
    articles = await admin.knowledge.list_articles() if admin.knowledge else []
    return render(request, "inbox.html", groups=groups, days=days, articles=articles,
                  count=len(items))


@router.post("/inbox/example")
async def add_examples(request: Request, keys: list[str] = KEYS,
                       article_id: str = Form(""), who: Staff = RESOLVE,
                       session: AsyncSession = DB) -> Response:
    repo = repository(request)
    items = await inbox.texts_for(session, keys)
    if not items or not article_id:
        raise HTTPException(422, "Choose some questions and an article.")
    added, used = [], []
    for item in items:
        language = item.language if item.language in SERVED_LANGUAGES else SOURCE
        try:
            await repo.add_question(article_id, language, item.text, author=who.user.username,
                                    note="from the unanswered inbox")
        except NotFound:  # no such article, or no text in that language yet: keep it waiting
            continue
        added.append(f"{language}: {item.text}")
        used.extend(item.keys)
    inbox.resolve(session, used, "example", who.user.id, article_id)
    audit.record(session, who.user, "inbox.add_example", f"article:{article_id}", None,
                 {"questions": added})
    return redirect(request, f"/articles/{article_id}?lang=en&notice=saved")


@router.post("/inbox/dismiss")
async def dismiss(request: Request, keys: list[str] = KEYS,
                  who: Staff = RESOLVE, session: AsyncSession = DB) -> Response:
    items = await inbox.texts_for(session, keys)
    inbox.resolve(session, [key for item in items for key in item.keys], "dismissed",
                  who.user.id)
    audit.record(session, who.user, "inbox.dismiss", "inbox", None,
                 {"questions": [item.text for item in items]})
    return redirect(request, "/inbox")


@router.post("/inbox/article/draft")
async def new_article_form(request: Request, keys: list[str] = KEYS,
                           who: Staff = RESOLVE,
                           session: AsyncSession = DB) -> Response:
    repo = repository(request)
    items = await inbox.texts_for(session, keys)
    english = [item.text for item in items if item.language == SOURCE]
    return render(request, "article_new.html", categories=repo.categories(),
                  items=items, keys=[key for item in items for key in item.keys],
                  form={"questions": "\n".join(english)})


@router.post("/inbox/article")
async def create_article(request: Request, keys: list[str] = KEYS,
                         article_id: str = Form(""), category: str = Form(""),
                         title: str = Form(""), answer: str = Form(""),
                         details: str = Form(""), where: str = Form(""),
                         questions: str = Form(""), link_lines: str = Form("", alias="links"),
                         source_lines: str = Form("", alias="sources"), who: Staff = RESOLVE,
                         session: AsyncSession = DB) -> Response:

    repo = repository(request)
    items = await inbox.texts_for(session, keys)
    article_id = article_id.strip()
    text = TranslationText(title=title, answer=answer, details=details, where=where,
                           questions=lines(questions))
    try:
        await repo.create_article(article_id, category, text, author=who.user.username,
                                  links=links(link_lines), sources=lines(source_lines),
                                  note="from the unanswered inbox")
    except (Conflict, NotFound, ValueError) as error:
        return render(request, "article_new.html", 422, categories=repo.categories(),
                      items=items, keys=keys, error=str(error),
                      form={"article_id": article_id, "category": category, "title": title,
                            "answer": answer, "details": details, "where": where,
                            "questions": questions, "links": link_lines,
                            "sources": source_lines})
    # The new article has English only: questions in other languages stay in the inbox, to be
    # added as example questions once their translation exists.
    used = [item for item in items if item.language not in SERVED_LANGUAGES or
            item.language == SOURCE]
    inbox.resolve(session, [key for item in used for key in item.keys], "article", who.user.id,
                  article_id)
    audit.record(session, who.user, "article.create", f"article:{article_id}", None,
                 {"category": category, "title": title, "from_inbox": len(items)})
    return redirect(request, f"/articles/{article_id}?lang=en&notice=created")
