"""One resident message through Rasa and back: the path every text and button press takes."""

from __future__ import annotations

import time

import httpx
import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction, ParseMode
from telegram.ext import ContextTypes

from bot import callbacks, handoff, texts
from bot.delivery_mark import marking
from bot.formatting import RATE_DOWN_INTENT, RATE_UP_INTENT, Outgoing, to_outgoing
from bot.language import SERVED, UNDETERMINED
from bot.residents import language_for
from bot.services import services
from bot.store import Turn
from helpdesk.redact import redact

log = structlog.get_logger(__name__)


def rasa_sender(chat_id: int) -> str:
    return f"tg-{chat_id}"


def keyboard(reply: Outgoing) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    ratings: list[InlineKeyboardButton] = []
    for title, payload in reply.buttons:
        data = callbacks.encode(callbacks.RASA, payload)
        if not data:
            continue
        button = InlineKeyboardButton(title[:64], callback_data=data)
        if payload.startswith((f"/{RATE_UP_INTENT}", f"/{RATE_DOWN_INTENT}")):
            ratings.append(button)  # 👍 and 👎 side by side, small, under everything else
        else:
            rows.append([button])
    if ratings:
        rows.append(ratings)
    return InlineKeyboardMarkup(rows) if rows else None


async def send_replies(context: ContextTypes.DEFAULT_TYPE, chat_id: int,
                       replies: list[Outgoing]) -> None:
    for reply in replies:
        await context.bot.send_message(chat_id, reply.html, parse_mode=ParseMode.HTML,
                                       reply_markup=keyboard(reply),
                                       disable_web_page_preview=True)


async def converse(context: ContextTypes.DEFAULT_TYPE, *, update_id: int, chat_id: int,
                   text: str, telegram_code: str | None) -> None:
    """Sends `text` to Rasa as the resident's message; delivers the answer, in order per chat."""
    svc = services(context)
    async with svc.chat_locks[chat_id]:
        started = time.perf_counter()
        decision = await language_for(svc.store, chat_id, text, telegram_code)
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        metadata = {"chat_id": chat_id, "language": decision.answer,
                    "written_language": decision.written, "telegram_language_code": telegram_code}
        try:
            reply = await svc.rasa.send(rasa_sender(chat_id), text, metadata)
        except httpx.HTTPError as error:
            log.error("rasa_unavailable", chat_id=chat_id, error=str(error))
            failed = Turn(update_id=update_id, chat_id=chat_id, text=redact(text),
                          language=decision.written, intent=None, confidence=None, articles=[],
                          answer_language=decision.answer, latency_ms=_ms(started))
            with marking(lambda: svc.record_turn(failed)) as mark:
                await context.bot.send_message(chat_id, texts.text("unavailable", decision.answer),
                                               parse_mode=ParseMode.HTML)
            await mark.ensure()
            return
        replies = to_outgoing(reply.messages, reply.meta)
        if decision.written not in SERVED and decision.written != UNDETERMINED:
            replies.insert(0, Outgoing(texts.text("unserved_language", decision.answer)))
        meta = reply.meta
        turn = Turn(
            update_id=update_id, chat_id=chat_id, text=redact(text), language=decision.written,
            intent=reply.intent, confidence=reply.confidence,
            articles=list(meta.get("articles", [])),
            answer_language=str(meta.get("answer_language") or decision.answer),
            machine_translated=bool(meta.get("machine_translated")),
            handoff=bool(meta.get("handoff")), emergency=bool(meta.get("emergency")),
            latency_ms=_ms(started))
        # The turn is recorded just before the first reply leaves (bot.delivery_mark): once it
        # exists, an update retried after a crash is not answered again.
        with marking(lambda: svc.record_turn(turn)) as mark:
            await send_replies(context, chat_id, replies)
        await mark.ensure()
        log.info("turn", chat_id=chat_id, language=decision.written, source=decision.source,
                 intent=reply.intent, articles=meta.get("articles", []),
                 latency_ms=round(_ms(started), 1))
        if meta.get("handoff") == "requested":  # the resident confirmed: open the ticket
            await handoff.open_ticket(context, chat_id, decision.answer)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
