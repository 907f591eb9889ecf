"""Flags tickets that wait too long: a repeating JobQueue job posts in the ticket's topic again,
mentioning the team, each time another `handoff_reflag_after_s` passes without an answer.

Only during office hours: nobody is there to answer at night, and a ping then would only bury
the morning's list. The job keeps no state of its own (`flagged_at` is in the database), so it
picks up where it left off after a restart.
"""

from __future__ import annotations

from html import escape

import structlog
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.handoff import post_in_topic
from bot.office_hours import OfficeHours
from bot.services import services
from bot.ticket_summary import minutes_between, staff_text, team_mention
from bot.tickets import QUEUED, aware, utcnow

log = structlog.get_logger(__name__)
JOB_NAME = "flag_waiting_tickets"


async def flag_waiting(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    settings = svc.settings
    now = utcnow()
    if settings.staff_chat_id is None or not OfficeHours.from_settings(settings).is_open(now):
        return
    for ticket in await svc.tickets.active():
        if ticket.status != QUEUED or ticket.topic_id is None:
            continue
        since = aware(ticket.flagged_at) or aware(ticket.created_at)
        if (now - since).total_seconds() < settings.handoff_reflag_after_s:
            continue
        mention, _ = team_mention(settings, ticket.language)
        try:
            await post_in_topic(context, ticket, staff_text(
                settings, "staff_still_waiting", number=ticket.id,
                minutes=minutes_between(ticket.created_at, now),
                lang=escape(ticket.language), mention=mention))
        except TelegramError as error:
            log.warning("ticket_flag_failed", ticket=ticket.id, error=str(error))
            continue
        await svc.tickets.update(ticket.id, flagged_at=now)
        log.info("ticket_flagged", ticket=ticket.id)
