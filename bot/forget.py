"""/forget: a resident erases what the help desk stores about them, after saying yes."""

from __future__ import annotations

import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import callbacks, texts
from bot.erasure import erase_resident
from bot.services import services

log = structlog.get_logger(__name__)

YES, NO = "yes", "no"


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, language: str) -> None:
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.text("forget_yes", language),
                             callback_data=callbacks.encode(callbacks.FORGET, YES)),
        InlineKeyboardButton(texts.text("forget_no", language),
                             callback_data=callbacks.encode(callbacks.FORGET, NO))]])
    await update.effective_message.reply_html(texts.text("forget_confirm", language),
                                              reply_markup=keyboard)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str,
                 language: str) -> None:
    query = update.callback_query
    await query.answer()
    if value != YES:
        await query.edit_message_text(texts.text("forget_cancelled", language),
                                      parse_mode=ParseMode.HTML)
        return
    svc = services(context)
    chat_id = query.message.chat.id
    erased = await erase_resident(svc.store, svc.settings.rasa_tracker_url, chat_id)
    log.info("resident_erased", turns=erased.turns, ticket_messages=erased.ticket_messages,
             rasa_events=erased.rasa_events)
    # In the language read before erasing: the resident's choice is gone now.
    await query.edit_message_text(texts.text("forget_done", language), parse_mode=ParseMode.HTML)
