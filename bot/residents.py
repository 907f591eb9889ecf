"""Deciding, per message, which language the help desk uses with a resident.

The resident's /language choice wins. Otherwise a message that clearly shows its language sets
the conversation's language; one that doesn't ("ok", "obrigado", "👍") keeps it, and a first
message that doesn't falls back on the language of the resident's Telegram app.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language import SERVED, Detection, detect
from bot.store import Store

#: A Latin-script guess must be this sure, on a message at least this long, to switch languages.
SWITCH_CONFIDENCE = 0.9
SWITCH_MIN_WORDS = 2


@dataclass(frozen=True, slots=True)
class LanguageDecision:
    written: str  # the language the resident writes (may be one the desk does not serve)
    answer: str  # the served language the reply is in
    source: str  # "choice" | "detected" | "conversation" | "telegram" | "default"


def _clear(detection: Detection, text: str) -> bool:
    if detection.method in ("script", "lexicon"):
        return True
    return (detection.method == "langid" and detection.confidence >= SWITCH_CONFIDENCE
            and len(text.split()) >= SWITCH_MIN_WORDS)


def _telegram_language(code: str | None) -> str | None:
    base = (code or "").split("-")[0].lower()
    return base if base in SERVED else None


def decide(text: str, chosen: str | None, conversation: str | None,
           telegram_code: str | None) -> LanguageDecision:
    detection = detect(text)
    written = detection.language if _clear(detection, text) else None
    if chosen:
        return LanguageDecision(written or chosen, chosen, "choice")
    if written:
        answer = written if written in SERVED else (conversation or _telegram_language(
            telegram_code) or "en")
        return LanguageDecision(written, answer, "detected")
    if conversation:
        return LanguageDecision(conversation, conversation, "conversation")
    if prior := _telegram_language(telegram_code):
        return LanguageDecision(prior, prior, "telegram")
    guess = detection.language if detection.served else "en"
    return LanguageDecision(guess, guess, "default")


async def language_for(store: Store, chat_id: int, text: str,
                       telegram_code: str | None) -> LanguageDecision:
    resident = await store.resident(chat_id)
    decision = decide(text, resident.chosen_language if resident else None,
                      resident.conversation_language if resident else None, telegram_code)
    if decision.written in SERVED and decision.source in ("detected", "telegram", "default"):
        await store.update_resident(chat_id, conversation_language=decision.written,
                                    telegram_language_code=telegram_code)
    return decision
