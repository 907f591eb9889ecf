"""The resident's 1–5 rating of a closed ticket, from the buttons sent with the closing note."""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.handoff import post_in_topic
from bot.services import services
from bot.ticket_summary import staff_text
from bot.tickets import CLOSED

log = structlog.get_logger(__name__)


def parse(value: str) -> tuple[int, int] | None:
    number, _, score = value.partition(":")
    if not (number.isdigit() and score.isdigit() and 1 <= int(score) <= 5):
        return None
    return int(number), int(score)


async def rate(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str) -> None:
    svc = services(context)
    query = update.callback_query
    parsed = parse(value)
    ticket = await svc.tickets.get(parsed[0]) if parsed else None
    # A resident rates only their own closed ticket, once; anything else is a stale button.
    if parsed is None or ticket is None or ticket.chat_id != query.message.chat.id or \
            ticket.status != CLOSED or ticket.rating is not None:
        language = ticket.language if ticket and ticket.chat_id == query.message.chat.id \
            else "en"
        await query.answer(texts.text("stale_button", language))
        return
    await svc.tickets.update(ticket.id, rating=parsed[1])
    log.info("ticket_rated", ticket=ticket.id, rating=parsed[1])
    await query.answer()
    await query.edit_message_text(texts.text("handoff_rating_thanks", ticket.language),
                                  parse_mode=ParseMode.HTML)
    if ticket.topic_id is not None:
        try:  # the topic is closed; the bot still writes there as a topic-managing admin
            await post_in_topic(context, ticket, staff_text(
                svc.settings, "staff_rated", number=ticket.id, rating=parsed[1]))
        except TelegramError as error:
            log.warning("rating_note_failed", ticket=ticket.id, error=str(error))
