"""One handler per kind of update. Every update a resident can send gets an answer."""

from __future__ import annotations

import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks, forget, handoff, rating, subscribe, texts
from bot.conversation import converse
from bot.flood import FloodGuard
from bot.language import SERVED
from bot.services import services

log = structlog.get_logger(__name__)

FLOOD_KEY = "flood_guard"


async def _language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The language to use for the bot's own texts with this resident."""
    chat, user = update.effective_chat, update.effective_user
    resident = await services(context).store.resident(chat.id) if chat else None
    if resident and (resident.chosen_language or resident.conversation_language):
        return resident.chosen_language or resident.conversation_language or "en"
    code = ((user.language_code if user else None) or "en").split("-")[0]
    return code if code in SERVED else "en"


def language_keyboard() -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(texts.text("language_name", code),
                                    callback_data=callbacks.encode(callbacks.LANGUAGE, code))
               for code in SERVED]
    return InlineKeyboardMarkup([buttons[i:i + 3] for i in range(0, len(buttons), 3)])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: greet, say what the help desk does, and offer the language picker."""
    language = await _language(update, context)
    await update.effective_message.reply_html(texts.text("start", language),
                                              reply_markup=language_keyboard())


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the language picker."""
    language = await _language(update, context)
    await update.effective_message.reply_html(texts.text("choose_language", language),
                                              reply_markup=language_keyboard())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot does and its commands."""
    await update.effective_message.reply_html(texts.text("help", await _language(update, context)))


async def human(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/human: the same request as writing "I want to talk to a person"."""
    if await handoff.already_in_ticket(update, context):
        return
    await converse(context, update_id=update.update_id, chat_id=update.effective_chat.id,
                   text="/request_human", telegram_code=update.effective_user.language_code)


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe: disaster alerts, garbage-day reminders, city news (inline buttons)."""
    await subscribe.show(update, context, await _language(update, context))


async def unsubscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe: no more notices of any kind."""
    await subscribe.unsubscribe(update, context, await _language(update, context))


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: erase what the help desk keeps about the resident, after a yes."""
    await forget.ask(update, context, await _language(update, context))


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A resident's question or chat, answered through Rasa."""
    message = update.effective_message
    if await handoff.relay_from_resident(update, context):
        # A counselor has the conversation; only an emergency is also answered by the bot.
        if message.text.strip() and await handoff.in_danger(context, message.text):
            await converse(context, update_id=update.update_id,
                           chat_id=update.effective_chat.id, text=message.text,
                           telegram_code=update.effective_user.language_code)
        return
    if not message.text.strip():
        await message.reply_html(texts.text("empty", await _language(update, context)))
        return
    await converse(context, update_id=update.update_id, chat_id=update.effective_chat.id,
                   text=message.text, telegram_code=update.effective_user.language_code)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Inline buttons: the language picker, and choices offered by Rasa (topics, yes/no)."""
    query = update.callback_query
    pressed = callbacks.decode(query.data)
    # No message: a button under an inline-mode message, which this bot never sends, so the
    # data is foreign; every branch below needs the chat the message is in.
    if pressed is None or query.message is None:
        await query.answer(texts.text("stale_button", await _language(update, context)))
        return
    if pressed.kind == callbacks.LANGUAGE:
        if pressed.value not in SERVED:
            await query.answer()
            return
        await services(context).store.update_resident(query.message.chat.id,
                                                      chosen_language=pressed.value,
                                                      conversation_language=pressed.value)
        await query.answer()
        await query.edit_message_text(texts.text("language_set", pressed.value),
                                      parse_mode=ParseMode.HTML)
        return
    if pressed.kind == callbacks.RATING:
        await rating.rate(update, context, pressed.value)
        return
    if pressed.kind == callbacks.FORGET:
        await forget.button(update, context, pressed.value, await _language(update, context))
        return
    if pressed.kind == callbacks.SUBSCRIBE:
        await subscribe.button(update, context, pressed.value, await _language(update, context))
        return
    ticket = await services(context).tickets.active_for_chat(query.message.chat.id)
    if ticket is not None:  # the bot's old buttons don't reopen the chat with Rasa
        await query.answer(texts.text("handoff_busy", ticket.language))
        return
    await query.answer()
    await converse(context, update_id=update.update_id, chat_id=query.message.chat.id,
                   text=pressed.value, telegram_code=query.from_user.language_code)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, locations, documents…: a polite note that only text is read.
    During a ticket they go to the counselor instead."""
    if await handoff.relay_from_resident(update, context):
        return
    await update.effective_message.reply_html(texts.text("non_text",
                                                         await _language(update, context)))


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: not answered twice, but not ignored either."""
    if await handoff.relay_from_resident(update, context):
        return
    await context.bot.send_message(update.effective_chat.id,
                                   texts.text("edited", await _language(update, context)),
                                   parse_mode=ParseMode.HTML)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have."""
    await update.effective_message.reply_html(texts.text("unknown_command",
                                                         await _language(update, context)))


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every other handler: a resident's message beyond the flood limit gets one
    slow-down note, later ones are dropped. Dropping is a normal return (ApplicationHandlerStop),
    so the inbox still marks the update done and nothing is retried."""
    message, chat = update.message or update.edited_message, update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    guard: FloodGuard = context.bot_data[FLOOD_KEY]
    sent_at = (message.edit_date or message.date).timestamp()
    verdict = guard.check(chat.id, sent_at)
    if verdict == "ok":
        return
    # No text and no phone numbers in the log: the chat id says enough to spot an abuser.
    log.info("flood_slowed_down", chat_id=chat.id, verdict=verdict)
    if verdict == "warn":
        await context.bot.send_message(chat.id, texts.text(
            "flood_slow_down", await _language(update, context),
            seconds=int(guard.window_s)), parse_mode=ParseMode.HTML)
    raise ApplicationHandlerStop


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the failure and tells the resident, so no message goes unanswered silently."""
    log.error("update_failed", error=repr(context.error), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.text(
                "unavailable", await _language(update, context)), parse_mode=ParseMode.HTML)
        except Exception:
            log.warning("error_reply_failed", chat_id=update.effective_chat.id)
