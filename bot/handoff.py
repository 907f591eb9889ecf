"""The resident's side of a handoff: opening a ticket, relaying their messages, /bot.

A ticket opens when Rasa's reply carries `handoff: "requested"` (the resident confirmed /human
or the bot's offer). It becomes a forum topic in the staff supergroup. While it is active the
bot does not answer the resident itself: everything they send goes to the topic.

/bot closes the ticket (note "resident returned to the bot") rather than leaving it queued: a
ticket nobody is waiting on would only mislead counselors, and /human opens a new one.
"""

from __future__ import annotations

import asyncio
from html import escape

import httpx
import structlog
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.counselor_translation import translate_if_possible
from bot.formatting import split_html
from bot.office_hours import OfficeHours
from bot.services import Services, services
from bot.store import Turn
from bot.ticket_summary import first_message, staff_text, subject_of, team_mention, topic_name
from bot.tickets import CLOSED, Ticket, TicketMessage, utcnow
from helpdesk.redact import redact

log = structlog.get_logger(__name__)

RESIDENT_LEFT_NOTE = "resident returned to the bot (/bot)"
#: Translating the context turns for counselors must not hold up opening the ticket for long.
TURN_TRANSLATION_TIMEOUT_S = 20.0


def message_kind(message: Message) -> str:
    for kind in ("text", "photo", "document", "voice", "video", "sticker", "location",
                 "contact"):
        if getattr(message, kind, None):
            return kind
    return "other"


async def _resident_name(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> str:
    try:
        chat = await context.bot.get_chat(chat_id)
    except TelegramError:
        return "Resident"
    return chat.full_name or chat.username or "Resident"


async def _translate_turns(svc: Services, turns: list[Turn]) -> dict[int, str]:
    """Each turn not in the counselors' language, machine-translated where an engine exists."""
    done: dict[int, str] = {}
    try:
        async with asyncio.timeout(TURN_TRANSLATION_TIMEOUT_S):
            for turn in turns:
                if turn.text.startswith("/"):
                    continue  # button payloads and commands, not the resident's words
                translated = await translate_if_possible(svc.translator, turn.text,
                                                         turn.language,
                                                         svc.settings.staff_language)
                if translated:
                    done[turn.id] = translated
    except TimeoutError:  # counselors still get the originals
        log.warning("turn_translation_timeout")
    return done


async def _tell(context: ContextTypes.DEFAULT_TYPE, chat_id: int, key: str, language: str,
                **values: object) -> None:
    await context.bot.send_message(chat_id, texts.text(key, language, **values),
                                   parse_mode=ParseMode.HTML)


async def open_ticket(context: ContextTypes.DEFAULT_TYPE, chat_id: int, language: str) -> None:
    """Opens the resident's ticket and its topic; called with the resident's chat lock held."""
    svc = services(context)
    settings = svc.settings
    if settings.staff_chat_id is None:
        log.warning("handoff_without_staff_chat", chat_id=chat_id)
        return
    existing = await svc.tickets.active_for_chat(chat_id)
    if existing is not None:
        await _tell(context, chat_id, "handoff_already", existing.language, number=existing.id)
        return
    turns = await svc.store.recent_turns(chat_id, settings.handoff_context_turns)
    ticket = await svc.tickets.create(chat_id, language, subject_of(turns))
    now = utcnow()
    hours = OfficeHours.from_settings(settings)
    office_open = hours.is_open(now)
    try:
        topic = await context.bot.create_forum_topic(settings.staff_chat_id, topic_name(ticket))
    except TelegramError as error:
        log.error("ticket_topic_failed", ticket=ticket.id, error=str(error))
        await svc.tickets.update(ticket.id, status=CLOSED, closed_at=now,
                                 close_note=f"could not open a topic: {error}")
        await _tell(context, chat_id, "unavailable", language)
        return
    ticket = await svc.tickets.update(ticket.id, topic_id=topic.message_thread_id)
    summary = first_message(settings, ticket, await _resident_name(context, chat_id), turns,
                            await _translate_turns(svc, turns), utcnow(), office_open)
    await post_in_topic(context, ticket, summary)
    mention, is_team = team_mention(settings, language)
    await post_in_topic(context, ticket, staff_text(
        settings, "staff_notify_team" if is_team else "staff_notify_general",
        number=ticket.id, lang=escape(language), mention=mention))
    log.info("ticket_opened", ticket=ticket.id, chat_id=chat_id, language=language,
             topic_id=ticket.topic_id, office_open=office_open)
    if office_open:
        await _tell(context, chat_id, "handoff_ticket", language, number=ticket.id)
    else:
        await _tell(context, chat_id, "handoff_after_hours", language, number=ticket.id,
                    hours=escape(hours.describe(texts.text("weekdays", language).split(","))))


async def post_in_topic(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket,
                        html: str) -> Message:
    """Posts in the ticket's topic, split under Telegram's limit; returns the first part."""
    sent = [await context.bot.send_message(services(context).settings.staff_chat_id, chunk,
                                           parse_mode=ParseMode.HTML,
                                           message_thread_id=ticket.topic_id,
                                           disable_web_page_preview=True)
            for chunk in split_html(html)]
    return sent[0]


async def relay_from_resident(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when the resident has an active ticket: the message went to its topic, and the bot
    must not answer it. Runs under the chat's lock, so a ticket being opened is seen."""
    svc = services(context)
    chat_id = update.effective_chat.id
    message = update.effective_message
    async with svc.chat_locks[chat_id]:
        ticket = await svc.tickets.active_for_chat(chat_id)
        if ticket is None:
            return False
        if ticket.topic_id is None:
            return True
        kind = message_kind(message)
        try:
            if update.edited_message is not None and message.text:
                relayed = await post_in_topic(context, ticket, staff_text(
                    svc.settings, "staff_resident_edited", text=escape(message.text)))
            elif message.text:
                relayed = await post_in_topic(context, ticket, staff_text(
                    svc.settings, "staff_resident_says", text=escape(message.text)))
            else:
                # Photos, documents, voice…: copied, so counselors see them as sent.
                relayed = await context.bot.copy_message(
                    svc.settings.staff_chat_id, chat_id, message.message_id,
                    message_thread_id=ticket.topic_id)
        except TelegramError as error:
            log.error("relay_to_topic_failed", ticket=ticket.id, error=str(error))
            await _tell(context, chat_id, "unavailable", ticket.language)
            return True
        await svc.tickets.add_message(TicketMessage(
            ticket_id=ticket.id, direction="resident", sender_id=chat_id, kind=kind,
            text=redact(message.text or message.caption or "") or None,
            source_message_id=message.message_id, relayed_message_id=relayed.message_id))
        log.info("relayed_to_counselors", ticket=ticket.id, kind=kind)
        return True


async def in_danger(context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Whether a message relayed to a counselor reads as an emergency. Counselors may be busy or
    off duty, so such a resident gets the emergency numbers from the bot at once as well."""
    try:
        return await services(context).rasa.intent(text) == "emergency"
    except httpx.HTTPError as error:
        log.warning("emergency_check_failed", error=type(error).__name__)
        return False


async def already_in_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """/human while a ticket is active: say so instead of asking Rasa again."""
    ticket = await services(context).tickets.active_for_chat(update.effective_chat.id)
    if ticket is None:
        return False
    await _tell(context, update.effective_chat.id, "handoff_already", ticket.language,
                number=ticket.id)
    return True


async def back_to_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bot: the resident leaves the counselors; the ticket closes with a note."""
    svc = services(context)
    chat_id = update.effective_chat.id
    async with svc.chat_locks[chat_id]:
        ticket = await svc.tickets.active_for_chat(chat_id)
        if ticket is None:
            resident = await svc.store.resident(chat_id)
            language = (resident and (resident.chosen_language or
                                      resident.conversation_language)) or "en"
            await _tell(context, chat_id, "handoff_no_ticket", language)
            return
        async with svc.ticket_locks[ticket.id]:
            ticket = await svc.tickets.update(ticket.id, status=CLOSED, closed_at=utcnow(),
                                              close_note=RESIDENT_LEFT_NOTE)
        if ticket.topic_id is not None:
            try:
                await post_in_topic(context, ticket, staff_text(
                    svc.settings, "staff_resident_left", number=ticket.id))
                await context.bot.close_forum_topic(svc.settings.staff_chat_id, ticket.topic_id)
            except TelegramError as error:
                log.warning("topic_close_failed", ticket=ticket.id, error=str(error))
        log.info("ticket_closed", ticket=ticket.id, by="resident")
        await _tell(context, chat_id, "handoff_back_to_bot", ticket.language, number=ticket.id)
