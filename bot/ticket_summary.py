"""What counselors read about a ticket: the topic's title and first message, the /queue list,
and the mention that notifies the right team. Plain functions of stored data, easy to test."""

from __future__ import annotations

import datetime as dt
from html import escape

from bot import texts
from bot.store import Turn
from bot.tickets import Ticket, aware
from helpdesk.settings import Settings

MAX_TOPIC_NAME = 128
SUBJECT_IN_TITLE = 60
TURN_PREVIEW = 300


def staff_text(settings: Settings, key: str, **values: object) -> str:
    return texts.text(key, settings.staff_language, **values)


def language_label(language: str) -> str:
    """"Português (pt)": the language's own name, and its code for sorting by eye."""
    return f"{texts.text('language_name', language)} ({language})" \
        if texts.has_locale(language) else language


def topic_name(ticket: Ticket) -> str:
    subject = " ".join(ticket.subject.split())
    if len(subject) > SUBJECT_IN_TITLE:
        subject = subject[:SUBJECT_IN_TITLE - 1] + "…"
    return f"{ticket.language.upper()} · #{ticket.id} · {subject}"[:MAX_TOPIC_NAME]


def minutes_between(start: dt.datetime | None, end: dt.datetime) -> int:
    start = aware(start)
    return 0 if start is None else max(0, int((end - start).total_seconds() // 60))


def team_mention(settings: Settings, language: str) -> tuple[str, bool]:
    """The mention (HTML) of the resident's language team, else of the general queue; and
    whether it is the language team. Numeric entries are user ids, mentioned by link."""
    team = settings.staff_teams.get(language, "").strip()
    raw = team or settings.staff_general_queue.strip()
    parts = []
    for token in raw.split():
        if token.isdigit():
            parts.append(f'<a href="tg://user?id={token}">{escape(token)}</a>')
        else:
            parts.append(escape(token))
    return " ".join(parts), bool(team)


def subject_of(turns: list[Turn]) -> str:
    """The resident's question: the last turn that was a question in words, not the request
    for a person or a button press (whose payload starts with "/")."""
    for turn in reversed(turns):
        if turn.text.startswith("/") or turn.handoff or turn.intent in ("request_human",):
            continue
        if turn.text.strip():
            return turn.text.strip()
    return ""


def first_message(settings: Settings, ticket: Ticket, resident_name: str, turns: list[Turn],
                  translations: dict[int, str], now: dt.datetime, office_open: bool) -> str:
    """The topic's opening message (HTML): who, what, what the bot already said, how long."""
    t = staff_text
    asked = next((turn.created_at for turn in turns if turn.text.strip() == ticket.subject),
                 ticket.created_at)
    lines = [t(settings, "staff_ticket_header", number=ticket.id,
               lang=escape(language_label(ticket.language))),
             t(settings, "staff_ticket_resident", name=escape(resident_name)),
             t(settings, "staff_ticket_question",
               question=escape(ticket.subject or t(settings, "staff_no_question"))),
             t(settings, "staff_ticket_waiting", minutes=minutes_between(asked, now))]
    articles: list[str] = []
    for turn in turns:
        articles += [a for a in turn.articles or [] if a not in articles]
    lines.append(t(settings, "staff_ticket_articles",
                   articles=escape(", ".join(articles)) if articles else "—"))
    if turns:
        lines.append(t(settings, "staff_ticket_turns"))
    for turn in turns:
        text = turn.text if len(turn.text) <= TURN_PREVIEW else turn.text[:TURN_PREVIEW] + "…"
        line = f"• <i>{escape(turn.language)}</i> {escape(text)}"
        if turn.intent:
            line += f" <code>{escape(turn.intent)}</code>"
        if turn.id in translations:
            line += f"\n   ↳ <i>{escape(translations[turn.id])}</i> (MT)"
        lines.append(line)
    if not office_open:
        lines.append(t(settings, "staff_ticket_after_hours"))
    lines.append(t(settings, "staff_ticket_howto"))
    return "\n".join(lines)


def queue_listing(settings: Settings, tickets: list[Ticket], now: dt.datetime) -> str:
    if not tickets:
        return staff_text(settings, "staff_queue_empty")
    lines = [staff_text(settings, "staff_queue_header", count=len(tickets))]
    for ticket in tickets:
        waited = minutes_between(ticket.created_at, now)
        who = f" · {escape(ticket.counselor_name)}" if ticket.counselor_name else ""
        lines.append(f"#{ticket.id} · {escape(ticket.language)} · {ticket.status} · "
                     f"{waited} min{who} · {escape(ticket.subject[:SUBJECT_IN_TITLE])}")
    return "\n".join(lines)
