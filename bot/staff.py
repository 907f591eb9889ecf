"""The counselors' side: their replies in a ticket's topic, /close and /queue.

Only members of the staff supergroup act as counselors, checked with getChatMember on every
message: someone removed from the group stops being one at once. Anything else said in the
group (another topic, someone who is no longer a member, a bot) is ignored.
"""

from __future__ import annotations

from html import escape

import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import callbacks, texts
from bot.counselor_translation import translate_reply
from bot.formatting import split_html
from bot.handoff import message_kind
from bot.services import services
from bot.ticket_summary import queue_listing, staff_text
from bot.tickets import ACTIVE, CLOSED, OPEN, Ticket, TicketMessage, utcnow
from helpdesk.redact import redact

log = structlog.get_logger(__name__)

COUNSELOR_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR,
                      ChatMemberStatus.MEMBER}
RATINGS = range(1, 6)


async def is_counselor(context: ContextTypes.DEFAULT_TYPE, user: User | None) -> bool:
    if user is None or user.is_bot:
        return False
    try:
        member = await context.bot.get_chat_member(services(context).settings.staff_chat_id,
                                                   user.id)
    except TelegramError as error:
        log.warning("member_check_failed", user_id=user.id, error=str(error))
        return False
    return member.status in COUNSELOR_STATUSES


async def _ticket_here(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Ticket | None:
    """The active ticket of the topic this counselor message is in, if the sender is staff."""
    message = update.effective_message
    if not message.is_topic_message or message.message_thread_id is None:
        return None
    ticket = await services(context).tickets.for_topic(message.message_thread_id)
    if ticket is None or ticket.status not in ACTIVE:
        return None
    if not await is_counselor(context, message.from_user):
        log.info("staff_message_ignored", user_id=message.from_user and message.from_user.id)
        return None
    return ticket


def _counselor_html(text: str, translated: str | None, language: str) -> str:
    label = texts.text("counselor_label", language)
    if translated is None:
        return f"{label} {escape(text)}"  # one line: a split keeps the label with the text
    return (f"{label} <i>({texts.text('machine_translation_label', language)})</i>\n"
            f"{escape(translated)}\n\n<i>{texts.text('original_label', language)}:</i>\n"
            f"{escape(text)}")


async def relay_to_resident(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A counselor's message in a ticket's topic, delivered to that ticket's resident only."""
    svc = services(context)
    message = update.effective_message
    ticket = await _ticket_here(update, context)
    if ticket is None:
        return
    async with svc.ticket_locks[ticket.id]:
        ticket = await svc.tickets.get(ticket.id)
        if ticket is None or ticket.status not in ACTIVE:
            return
        translated = None
        try:
            if message.text:
                translated = await translate_reply(svc.translator, message.text,
                                                   ticket.language)
                sent: Message | None = None
                for chunk in split_html(_counselor_html(message.text, translated,
                                                        ticket.language)):
                    sent = await context.bot.send_message(ticket.chat_id, chunk,
                                                          parse_mode=ParseMode.HTML,
                                                          disable_web_page_preview=True)
                relayed_id = sent.message_id if sent else None
            else:
                relayed_id = (await context.bot.copy_message(
                    ticket.chat_id, message.chat_id, message.message_id)).message_id
        except TelegramError as error:
            # The resident may have blocked the bot: counselors must know it did not arrive.
            log.warning("relay_to_resident_failed", ticket=ticket.id, error=str(error))
            await message.reply_html(staff_text(svc.settings, "staff_delivery_failed",
                                                error=escape(str(error))))
            return
        user = message.from_user
        if ticket.first_response_at is None:
            await svc.tickets.update(ticket.id, status=OPEN, first_response_at=utcnow(),
                                     counselor_id=user.id, counselor_name=user.full_name[:128])
        await svc.tickets.add_message(TicketMessage(
            ticket_id=ticket.id, direction="counselor", sender_id=user.id,
            kind=message_kind(message),
            text=redact(message.text or message.caption or "") or None,
            source_message_id=message.message_id, relayed_message_id=relayed_id,
            machine_translated=translated is not None))
        log.info("relayed_to_resident", ticket=ticket.id, kind=message_kind(message),
                 machine_translated=translated is not None)


def rating_keyboard(ticket: Ticket) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(f"{score}⭐",
                             callback_data=callbacks.encode(callbacks.RATING,
                                                            f"{ticket.id}:{score}"))
        for score in RATINGS]])


async def close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/close [note] in a ticket's topic: closes ticket and topic, asks the resident to rate."""
    svc = services(context)
    message = update.effective_message
    ticket = await _ticket_here(update, context)
    if ticket is None:
        if message.is_topic_message and await is_counselor(context, message.from_user):
            await message.reply_html(staff_text(svc.settings, "staff_no_ticket_here"))
        return
    note = " ".join(context.args or []) or None
    user = message.from_user
    async with svc.ticket_locks[ticket.id]:
        ticket = await svc.tickets.update(
            ticket.id, status=CLOSED, closed_at=utcnow(), close_note=note,
            counselor_id=ticket.counselor_id or user.id,
            counselor_name=ticket.counselor_name or user.full_name[:128])
    await message.reply_html(staff_text(svc.settings, "staff_ticket_closed", number=ticket.id,
                                        name=escape(user.full_name),
                                        note=escape(note or "—")))
    try:
        await context.bot.close_forum_topic(svc.settings.staff_chat_id, ticket.topic_id)
    except TelegramError as error:
        log.warning("topic_close_failed", ticket=ticket.id, error=str(error))
    log.info("ticket_closed", ticket=ticket.id, by="counselor")
    try:
        await context.bot.send_message(ticket.chat_id, texts.text(
            "handoff_closed", ticket.language, number=ticket.id), parse_mode=ParseMode.HTML,
            reply_markup=rating_keyboard(ticket))
    except TelegramError as error:
        log.warning("rating_request_failed", ticket=ticket.id, error=str(error))


async def queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue anywhere in the staff group: the active tickets, longest waiting first."""
    svc = services(context)
    message = update.effective_message
    if not await is_counselor(context, message.from_user):
        return
    listing = queue_listing(svc.settings, await svc.tickets.active(), utcnow())
    for chunk in split_html(listing):
        await message.reply_html(chunk)
