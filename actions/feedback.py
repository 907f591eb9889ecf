"""A resident's 👍 / 👎 under an answer: recorded for the staff, thanked, and a 👎 offers a
counselor (the rule in nlu/data/rules.yml runs action_offer_handoff after this action).

The button carries only a short token of the article (bot.formatting.answer_token): callback
data must fit in 64 bytes and article ids need not. The answer itself is found again in the
conversation Rasa keeps: the newest reply that showed that article, and the question before it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback_store import DOWN, UP, FeedbackStore, Rated, Rating
from actions.meta import meta, resident_language
from bot.formatting import RATE_DOWN_INTENT, answer_token, rated_article
from helpdesk.redact import redact
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def feedback_store() -> FeedbackStore:
    return FeedbackStore(get_settings().db_url)


@dataclass(frozen=True, slots=True)
class RatedAnswer:
    article_id: str
    answered_at: dt.datetime
    question: str


def find_answer(events: Sequence[dict[str, Any]], token: str) -> RatedAnswer | None:
    """The newest answer in `events` whose article matches `token`, with the resident's question
    (the newest typed message before it: a topic picked from buttons is a payload, not words)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        article_id = rated_article(_meta(event))
        if event.get("event") != "bot" or article_id is None or answer_token(article_id) != token:
            continue
        question = ""
        for earlier in reversed(events[:index]):
            text = (earlier.get("text") or "").strip()
            if earlier.get("event") == "user" and text and not text.startswith("/"):
                question = text
                break
        answered_at = dt.datetime.fromtimestamp(float(event.get("timestamp") or 0), dt.UTC)
        return RatedAnswer(article_id, answered_at, question)
    return None


def _meta(event: dict[str, Any]) -> dict[str, Any]:
    custom = (event.get("data") or {}).get("custom")
    found = custom.get("meta") if isinstance(custom, dict) else None
    return found if isinstance(found, dict) else {}


def chat_of(tracker: Tracker) -> int | None:
    """The bot sends the chat id as metadata; the sender id ("tg-<chat>") says it too."""
    chat = (tracker.latest_message.get("metadata") or {}).get("chat_id")
    if chat is None and tracker.sender_id.startswith("tg-"):
        chat = tracker.sender_id.removeprefix("tg-")
    try:
        return int(chat) if chat is not None else None
    except ValueError:
        return None


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        rating: Rating = DOWN if intent == RATE_DOWN_INTENT else UP
        token = next((str(e.get("value")) for e in tracker.latest_message.get("entities") or []
                      if e.get("entity") == "answer"), "")
        language = resident_language(tracker)
        answer = find_answer(tracker.events, token) if token else None
        chat_id = chat_of(tracker)
        if answer is None or chat_id is None:
            # Rasa no longer holds that conversation (restarted, or an old button): nothing to
            # attach the rating to. The resident is still thanked; the log says what was lost.
            log.warning("feedback_unattached token=%s chat=%s", token, chat_id)
        else:
            await feedback_store().record(Rated(
                chat_id=chat_id, article_id=answer.article_id, language=language,
                rating=rating, question=redact(answer.question),
                answered_at=answer.answered_at))
        # No `articles` in the meta: the bot counts those as articles served.
        dispatcher.utter_message(response=f"utter_feedback_{rating}",
                                 json_message=meta(answer_language=language, feedback=rating))
        return []

