"""/subscribe and /unsubscribe: the resident picks topics (and, for garbage, a district) with
inline buttons on one message that is edited in place.

Button values (callback kind `sub`): "t:<topic>" toggles a topic, "d:<district>" picks the
district and turns garbage reminders on, "back" returns to the topics, "done" closes.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import callbacks, texts
from bot.garbage_calendar import Calendar
from bot.services import services
from bot.subscriptions import GARBAGE, TOPICS, Subscription, Subscriptions

CALENDAR_KEY = "garbage_calendar"


def calendar(context: ContextTypes.DEFAULT_TYPE) -> Calendar:
    return context.bot_data[CALENDAR_KEY]


def _button(label: str, value: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=callbacks.encode(callbacks.SUBSCRIBE, value))


def _topic_label(topic: str, row: Subscription | None, language: str, cal: Calendar) -> str:
    on = row is not None and row.wants(topic)
    label = texts.text(f"sub_topic_{topic}", language)
    if topic == GARBAGE and on and row is not None and row.district in cal.districts:
        label += f" ({cal.districts[row.district].name(language)})"
    return f"{'✅' if on else '⬜'} {label}"


def topics_keyboard(row: Subscription | None, language: str,
                    cal: Calendar) -> InlineKeyboardMarkup:
    rows = [[_button(_topic_label(t, row, language, cal), f"t:{t}")] for t in TOPICS]
    rows.append([_button(texts.text("sub_done_button", language), "done")])
    return InlineKeyboardMarkup(rows)


def districts_keyboard(language: str, cal: Calendar) -> InlineKeyboardMarkup:
    rows = [[_button(d.name(language), f"d:{d.id}")] for d in cal.districts.values()]
    rows.append([_button(texts.text("sub_back_button", language), "back")])
    return InlineKeyboardMarkup(rows)


def summary(row: Subscription | None, language: str, cal: Calendar) -> str:
    chosen = [t for t in TOPICS if row is not None and row.wants(t)]
    if not chosen:
        return texts.text("subscribe_none", language)
    names = [_topic_label(t, row, language, cal).removeprefix("✅ ") for t in chosen]
    return texts.text("subscribe_summary", language, topics=", ".join(names))


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, language: str) -> None:
    """/subscribe: the topics with their current state."""
    row = await Subscriptions(services(context).store).get(update.effective_chat.id)
    await update.effective_message.reply_html(
        texts.text("subscribe_intro", language),
        reply_markup=topics_keyboard(row, language, calendar(context)))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, language: str) -> None:
    """/unsubscribe: every topic off at once."""
    undone = await Subscriptions(services(context).store).unsubscribe_all(
        update.effective_chat.id)
    await update.effective_message.reply_html(
        texts.text("unsubscribe_done" if undone else "unsubscribe_nothing", language))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str,
                 language: str) -> None:
    query = update.callback_query
    chat_id = query.message.chat.id
    subscriptions = Subscriptions(services(context).store)
    cal = calendar(context)
    row = await subscriptions.get(chat_id)
    kind, _, arg = value.partition(":")
    if kind == "t" and arg in TOPICS:
        if arg == GARBAGE and not (row and row.garbage):
            # Reminders need a district first; garbage is switched on when one is picked.
            await query.answer()
            await query.edit_message_text(texts.text("subscribe_pick_district", language),
                                          parse_mode=ParseMode.HTML,
                                          reply_markup=districts_keyboard(language, cal))
            return
        row = await subscriptions.set(chat_id, language,
                                      **{arg: not (row is not None and row.wants(arg))})
    elif kind == "d" and arg in cal.districts:
        row = await subscriptions.set(chat_id, language, garbage=True, district=arg)
    elif kind == "done":
        await query.answer()
        await query.edit_message_text(summary(row, language, cal), parse_mode=ParseMode.HTML)
        return
    elif kind != "back":
        await query.answer(texts.text("stale_button", language))
        return
    await query.answer()
    await query.edit_message_text(texts.text("subscribe_intro", language),
                                  parse_mode=ParseMode.HTML,
                                  reply_markup=topics_keyboard(row, language, cal))
