"""The dashboard (charts of what residents ask) and the read-only ticket pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin import charts, stats
from admin.permissions import Permission
from admin.web import DB, Staff, render, require, state
from bot.tickets import Ticket, TicketMessage

router = APIRouter()
DASHBOARD = Depends(require(Permission.VIEW_DASHBOARD))
TICKETS = Depends(require(Permission.VIEW_TICKETS))


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.0f} min"


@router.get("/")
async def dashboard(request: Request, days: int = 30,
                    who: Staff = DASHBOARD,
                    session: AsyncSession = DB) -> Response:
    settings = state(request).settings
    days = max(1, min(days, 365))
    figures = await stats.dashboard(session, days, settings.office_timezone,
                                    settings.admin_low_confidence)
    labels = [day.strftime("%m-%d") for day in figures.days]
    per_language = charts.stacked_columns(
        "Messages per day by language", labels, figures.languages,
        [dict(figures.per_day.get(day, {})) for day in figures.days])
    unanswered = charts.stacked_columns(
        "Questions per day: answered and unanswered", labels, ["answered", "unanswered"],
        [{"answered": q - u, "unanswered": u}
         for u, q in (figures.unanswered_per_day.get(day, (0, 0)) for day in figures.days)])
    handoffs = charts.stacked_columns(
        "Handoffs to counselors per day", labels, ["tickets"],
        [{"tickets": figures.handoffs_per_day.get(day, 0)} for day in figures.days])
    topics = charts.horizontal_bars("Top topics (articles answered)", figures.top_articles)
    waits = charts.horizontal_bars("Waiting time until a counselor's first reply",
                                   figures.waiting.buckets)
    ratings = charts.horizontal_bars("Residents' ratings of closed tickets",
                                     [(f"{score} / 5", figures.ratings.get(score, 0))
                                      for score in range(5, 0, -1)])
    return render(request, "dashboard.html", figures=figures, days=days,
                  charts=[per_language, topics, unanswered, handoffs, waits, ratings],
                  median_wait=_minutes(figures.waiting.median_s),
                  p90_wait=_minutes(figures.waiting.p90_s))


@router.get("/tickets")
async def tickets(request: Request, status: str | None = None,
                  who: Staff = TICKETS,
                  session: AsyncSession = DB) -> Response:
    query = select(Ticket).order_by(Ticket.id.desc()).limit(300)
    if status:
        query = query.where(Ticket.status == status)
    return render(request, "tickets.html", tickets=list(await session.scalars(query)),
                  status=status or "")


@router.get("/tickets/{number}")
async def ticket(request: Request, number: int,
                 who: Staff = TICKETS,
                 session: AsyncSession = DB) -> Response:
    found = await session.get(Ticket, number)
    if found is None:
        raise HTTPException(404, "No such ticket.")
    messages = await session.scalars(select(TicketMessage).where(
        TicketMessage.ticket_id == number).order_by(TicketMessage.id))
    return render(request, "ticket.html", ticket=found, messages=list(messages))
