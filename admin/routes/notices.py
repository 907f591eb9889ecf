"""Notices to subscribed residents (issue 9): compose per language beside the English, machine
drafts, approval, a confirmed send, withdraw, resending rows in doubt, and live progress.

Notices live in the bot's tables (bot/broadcast.py commits each change itself); the audit entry
goes into the request's own transaction, written just after the change it describes.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin import audit
from admin import notices as helpers
from admin.permissions import Permission
from admin.web import DB, Staff, redirect, render, require, state
from bot.broadcast import (
    COMPOSING,
    CURATED,
    DRAFT,
    MACHINE,
    MAX_TEXT,
    Broadcasts,
    NoticeError,
    NoticeView,
    Text,
)
from bot.subscriptions import GARBAGE, TOPICS

router = APIRouter()
VIEW = Depends(require(Permission.VIEW_NOTICES))
COMPOSE = Depends(require(Permission.COMPOSE_NOTICES))
APPROVE = Depends(require(Permission.APPROVE_NOTICES))
SEND = Depends(require(Permission.SEND_NOTICES))

MESSAGES = {"created": "Notice saved. Add or check the other languages, then send it.",
            "saved": "Texts saved.", "machine": "Machine draft added: check it, then approve it.",
            "approved": "Approved as curated.", "withdrawn": "Notice withdrawn: residents not yet "
            "reached will not get it.", "resent": "Rows in doubt queued again."}


def broadcasts(request: Request) -> Broadcasts:
    service: Broadcasts = request.app.state.broadcasts  # made in admin/app.py's create_app
    return service


def translator(request: Request) -> object | None:
    """The knowledge base's translation service (admin/app.py's open_knowledge), if any."""
    return getattr(state(request).knowledge, "translator", None)


async def _notice_or_404(request: Request, notice_id: int) -> NoticeView:
    view = await broadcasts(request).notice(notice_id)
    if view is None:
        raise HTTPException(404, "No such notice.")
    return view


async def _form_texts(request: Request) -> dict[str, str]:
    form = await request.form()
    found = {lang: form.get(f"text_{lang}") for lang in helpers.LANGUAGES}
    return {lang: value.replace("\r\n", "\n").strip() for lang, value in found.items()
            if isinstance(value, str)}


def _editor(request: Request, view: NoticeView | None, status_code: int = 200,
            **context: object) -> Response:
    settings = state(request).settings
    context.setdefault("form", {})
    return render(request, "notice.html", status_code, item=view,
                  texts=view.texts if view else {}, languages=helpers.LANGUAGES,
                  topics=TOPICS, garbage=GARBAGE, max_text=MAX_TEXT,
                  all_districts=helpers.districts(settings.reminders.calendar),
                  machine_languages=helpers.machine_languages(translator(request)),
                  editable=view is None or view.status == COMPOSING, **context)


@router.get("/notices")
async def notice_list(request: Request, who: Staff = VIEW) -> Response:
    found = await broadcasts(request).notices(limit=100)
    progress = {v.id: await broadcasts(request).progress(v.id) for v in found
                if v.queued_at is not None}
    return render(request, "notices.html", notices=found, progress=progress)


@router.get("/notices/new")
async def new_notice_form(request: Request, who: Staff = COMPOSE) -> Response:
    return _editor(request, None, form={"topic": "news"})


@router.post("/notices/new")
async def new_notice(request: Request, who: Staff = COMPOSE,
                     session: AsyncSession = DB) -> Response:
    form = await request.form()
    topic = str(form.get("topic", ""))
    chosen = [str(d) for d in form.getlist("districts")]
    districts = chosen if topic == GARBAGE and chosen else None
    known = helpers.districts(state(request).settings.reminders.calendar)
    if districts and any(d not in known for d in districts):
        # The bot matches districts by id: an unknown one would silently reach nobody.
        raise HTTPException(422, "Unknown garbage district; reload the page and pick again.")
    # Whatever staff type themselves is curated; machine drafts come only from the button.
    texts = {lang: Text(text, CURATED) for lang, text in (await _form_texts(request)).items()
             if text}
    try:
        notice_id = await broadcasts(request).create_notice(topic, texts, who.user.username,
                                                           districts=districts)
    except NoticeError as error:
        return _editor(request, None, 422, error=f"Not saved: {error}",
                       form={"topic": topic, "districts": chosen,
                             **{f"text_{k}": v.text for k, v in texts.items()}})
    audit.record(session, who.user, "notice.create", f"notice:{notice_id}", None,
                 {"topic": topic, "districts": districts,
                  "texts": {k: v.text for k, v in texts.items()}})
    return redirect(request, f"/notices/{notice_id}?notice=created")


@router.get("/notices/{notice_id}")
async def notice_page(request: Request, notice_id: int, notice: str = "",
                      who: Staff = VIEW) -> Response:
    view = await _notice_or_404(request, notice_id)
    return _editor(request, view, notice=MESSAGES.get(notice, ""))


@router.post("/notices/{notice_id}")
async def save_texts(request: Request, notice_id: int, who: Staff = COMPOSE,
                     session: AsyncSession = DB) -> Response:
    view = await _notice_or_404(request, notice_id)
    service = broadcasts(request)
    changed: dict[str, str | None] = {}
    try:
        for lang, text in (await _form_texts(request)).items():
            current = view.texts.get(lang)
            if not text and current is not None:
                await service.remove_text(notice_id, lang)
                changed[lang] = None
            elif text and (current is None or current.text.strip() != text):
                # Staff rewrote it: their own text, so curated (an editor may also approve).
                await service.set_text(notice_id, lang, Text(text, CURATED))
                changed[lang] = text
    except NoticeError as error:
        # Languages saved before the refusal stay saved: record them too.
        if changed:
            audit.record(session, who.user, "notice.save", f"notice:{notice_id}",
                         {k: view.texts[k].text for k in changed if k in view.texts}, changed)
        fresh = await _notice_or_404(request, notice_id)
        return _editor(request, fresh, 422, error=f"Not saved: {error}")
    if changed:
        audit.record(session, who.user, "notice.save", f"notice:{notice_id}",
                     {k: view.texts[k].text for k in changed if k in view.texts}, changed)
    return redirect(request, f"/notices/{notice_id}?notice=saved")


@router.post("/notices/{notice_id}/machine/{lang}")
async def machine_draft(request: Request, notice_id: int, lang: str, who: Staff = COMPOSE,
                        session: AsyncSession = DB) -> Response:
    view = await _notice_or_404(request, notice_id)
    engine = translator(request)
    if lang not in helpers.machine_languages(engine):
        raise HTTPException(409, f"No machine translation from English into {lang} here.")
    source = view.texts.get(helpers.SOURCE)
    if source is None:
        raise HTTPException(409, "Write the English text first: drafts are made from it.")
    form = await request.form()
    current = view.texts.get(lang)
    if current is not None and current.status == CURATED and form.get("overwrite") != "true":
        raise HTTPException(409, f"The {lang} text is curated; tick 'replace' to overwrite it.")
    text = await helpers.machine_translate(engine, source.text, lang)
    try:
        # A draft: the notice cannot go out until a person has reviewed and approved it.
        await broadcasts(request).set_text(notice_id, lang, Text(text, DRAFT))
    except NoticeError as error:
        raise HTTPException(409, f"No machine draft: {error}") from error
    audit.record(session, who.user, "notice.machine_draft", f"notice:{notice_id}/{lang}",
                 {"status": current.status} if current else None,
                 {"status": DRAFT, "source": "machine translation", "text": text})
    return redirect(request, f"/notices/{notice_id}?notice=machine#lang-{lang}")


@router.post("/notices/{notice_id}/approve/{lang}")
async def approve(request: Request, notice_id: int, lang: str, who: Staff = APPROVE,
                  session: AsyncSession = DB) -> Response:
    view = await _notice_or_404(request, notice_id)
    current = view.texts.get(lang)
    if current is None or current.status not in (MACHINE, DRAFT):
        raise HTTPException(409, f"No machine or draft {lang} text to approve.")
    try:
        await broadcasts(request).set_text(notice_id, lang, Text(current.text, CURATED))
    except NoticeError as error:
        raise HTTPException(409, str(error)) from error
    audit.record(session, who.user, "notice.approve", f"notice:{notice_id}/{lang}",
                 {"status": current.status}, {"status": CURATED})
    return redirect(request, f"/notices/{notice_id}?notice=approved#lang-{lang}")


@router.get("/notices/{notice_id}/send")
async def confirm_send(request: Request, notice_id: int, who: Staff = SEND) -> Response:
    view = await _notice_or_404(request, notice_id)
    return await _confirmation(request, view)


async def _confirmation(request: Request, view: NoticeView, status_code: int = 200,
                        **context: object) -> Response:
    reach = await helpers.audience(broadcasts(request), view.topic, view.districts, view.texts)
    drafts = sorted(k for k, v in view.texts.items() if v.status == DRAFT)
    return render(request, "notice_send.html", status_code, item=view, audience=reach,
                  total=sum(a.residents for a in reach), drafts=drafts,
                  missing=helpers.missing_fallback(view.texts), **context)


@router.post("/notices/{notice_id}/send")
async def send(request: Request, notice_id: int, who: Staff = SEND,
               session: AsyncSession = DB) -> Response:
    view = await _notice_or_404(request, notice_id)
    try:
        queued = await broadcasts(request).send(notice_id)
    except NoticeError as error:
        return await _confirmation(request, view, 409, error=f"Not sent: {error}")
    audit.record(session, who.user, "notice.send", f"notice:{notice_id}", None,
                 {"topic": view.topic, "districts": view.districts, "queued": queued,
                  "languages": {k: v.status for k, v in view.texts.items()}})
    return redirect(request, f"/notices/{notice_id}/progress")


@router.post("/notices/{notice_id}/withdraw")
async def withdraw(request: Request, notice_id: int, who: Staff = SEND,
                   session: AsyncSession = DB) -> Response:
    view = await _notice_or_404(request, notice_id)
    try:
        cancelled = await broadcasts(request).withdraw(notice_id)
    except NoticeError as error:
        raise HTTPException(409, str(error)) from error
    audit.record(session, who.user, "notice.withdraw", f"notice:{notice_id}",
                 {"status": view.status}, {"status": "withdrawn", "cancelled": cancelled})
    return redirect(request, f"/notices/{notice_id}/progress?notice=withdrawn")


@router.post("/notices/{notice_id}/resend")
async def resend_in_doubt(request: Request, notice_id: int, who: Staff = SEND,
                          session: AsyncSession = DB) -> Response:
    await _notice_or_404(request, notice_id)
    resent = await broadcasts(request).resend_unknown(notice_id)
    audit.record(session, who.user, "notice.resend_in_doubt", f"notice:{notice_id}", None,
                 {"resent": resent})
    return redirect(request, f"/notices/{notice_id}/progress?notice=resent")


async def _progress_context(request: Request, notice_id: int) -> dict[str, object]:
    view = await _notice_or_404(request, notice_id)
    service = broadcasts(request)
    return {"item": view, "progress": await service.progress(notice_id),
            "table": await helpers.by_language(service, notice_id),
            "columns": list(helpers.COLUMNS)}


@router.get("/notices/{notice_id}/progress")
async def progress_page(request: Request, notice_id: int, notice: str = "",
                        who: Staff = VIEW) -> Response:
    return render(request, "notice_progress.html", **await _progress_context(request, notice_id),
                  notice=MESSAGES.get(notice, ""))


@router.get("/notices/{notice_id}/progress/live")
async def progress_fragment(request: Request, notice_id: int, who: Staff = VIEW) -> Response:
    """The counts alone, which the progress page polls (htmx) until nothing is pending."""
    return render(request, "_notice_progress.html",
                  **await _progress_context(request, notice_id))
