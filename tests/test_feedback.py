"""👍 / 👎 under knowledge-base answers: the buttons, the action that records them, what staff see
(the inbox and the dashboard), and the whole path once through the real Rasa."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import feedback
from actions.feedback_store import AnswerFeedback, FeedbackStore, Rated
from admin.db import Database
from admin.inbox import open_items, texts_for
from admin.stats import dashboard
from bot import callbacks
from bot.conversation import keyboard
from bot.formatting import Outgoing, answer_token, to_outgoing
from bot.rasa_client import collect_meta
from helpdesk.local_desk import LocalDesk

ANSWERED_AT = 1_795_000_000.0  # Rasa's timestamp of the answer's reply, in seconds


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FeedbackStore]:
    scratch = FeedbackStore(f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}")
    monkeypatch.setattr(feedback, "feedback_store", lambda: scratch)
    yield scratch
    await scratch.close()


def answer_events(article_id: str, question: str, at: float = ANSWERED_AT
                  ) -> list[dict[str, Any]]:
    """A question and its answer as Rasa keeps them: texts, then the action's meta."""
    return [
        {"event": "user", "timestamp": at - 1, "text": question,
         "parse_data": {"intent": {"name": "ask_question"}}},
        {"event": "bot", "timestamp": at, "text": "<b>Garbage</b> …", "data": {}},
        {"event": "bot", "timestamp": at, "text": None,
         "data": {"custom": {"meta": {"articles": [article_id], "answer_language": "en"}}}},
    ]


def rating_tracker(intent: str, token: str, events: list[dict[str, Any]],
                   language: str = "pt", chat_id: int = 42) -> Tracker:
    message = {"text": f'/{intent}{{"answer":"{token}"}}', "intent": {"name": intent},
               "entities": [{"entity": "answer", "value": token}],
               "metadata": {"chat_id": chat_id, "language": language}}
    return Tracker(f"tg-{chat_id}", {"language": language}, message, events, False, None, {},
                   "action_listen")


async def rate(tracker: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    assert await feedback.ActionRecordFeedback().run(dispatcher, tracker, {}) == []
    return dispatcher.messages


# --- the action ---------------------------------------------------------------------------------

async def test_a_thumbs_down_is_stored_redacted_and_thanked(store: FeedbackStore) -> None:
    events = answer_events("garbage-sorting", "Which bag? call me at 090-1234-5678")
    token = answer_token("garbage-sorting")
    messages = await rate(rating_tracker("rate_answer_down", token, events))
    assert messages[0]["response"] == "utter_feedback_down"
    assert messages[0]["custom"]["meta"] == {"answer_language": "pt", "feedback": "down"}
    (row,) = await store.for_chat(42)
    assert (row.article_id, row.rating, row.language) == ("garbage-sorting", "down", "pt")
    assert row.question == "Which bag? call me at [phone]"
    assert row.answered_at.replace(tzinfo=dt.UTC).timestamp() == ANSWERED_AT
    assert row.rated_at is not None


async def test_pressing_again_changes_the_rating_of_the_same_answer(store: FeedbackStore
                                                                      ) -> None:
    events = answer_events("garbage-sorting", "Which bag for burnable garbage?")
    token = answer_token("garbage-sorting")
    await rate(rating_tracker("rate_answer_down", token, events))
    messages = await rate(rating_tracker("rate_answer_up", token, events))
    assert messages[0]["response"] == "utter_feedback_up"
    (row,) = await store.for_chat(42)
    assert row.rating == "up"
    # The same article answered again later is another answer, rated on its own.
    later = events + answer_events("garbage-sorting", "And for plastic?", ANSWERED_AT + 60)
    await rate(rating_tracker("rate_answer_down", token, later))
    rows = await store.for_chat(42)
    assert [(r.rating, r.question) for r in rows] == [
        ("up", "Which bag for burnable garbage?"), ("down", "And for plastic?")]


async def test_the_question_behind_a_picked_topic_is_the_one_typed(store: FeedbackStore) -> None:
    events = [{"event": "user", "timestamp": 1.0, "text": "what documents do I need"},
              {"event": "bot", "timestamp": 2.0, "text": "Which topic?",
               "data": {"custom": {"meta": {"articles": ["bank-account", "visa-renewal"],
                                            "unsure": True}}}},
              {"event": "user", "timestamp": 3.0, "text": '/ask_question{"article":"visa"}'},
              *answer_events("visa-renewal", "", at=4.0)[1:]]
    await rate(rating_tracker("rate_answer_down", answer_token("visa-renewal"), events))
    (row,) = await store.for_chat(42)
    assert (row.article_id, row.question) == ("visa-renewal", "what documents do I need")


async def test_a_rating_without_its_answer_records_nothing_but_still_thanks(
        store: FeedbackStore) -> None:
    emergency = [{"event": "bot", "timestamp": 5.0, "text": None, "data": {"custom": {"meta": {
        "articles": ["emergency-numbers"], "emergency": True}}}}]
    token = answer_token("emergency-numbers")
    messages = await rate(rating_tracker("rate_answer_up", token, emergency))
    assert messages[0]["response"] == "utter_feedback_up"
    assert await store.for_chat(42) == []


# --- the buttons --------------------------------------------------------------------------------

def kb_answer(article_id: str = "pension-lump-sum-withdrawal") -> list[dict[str, Any]]:
    return [{"recipient_id": "tg-1", "text": "<b>Title</b>\nAnswer"},
            {"recipient_id": "tg-1", "text": "📍 City Hall"},
            {"recipient_id": "tg-1", "custom": {"meta": {
                "articles": [article_id], "answer_language": "en", "score": 0.9}}}]


def outgoing(raw: list[dict[str, Any]]) -> list[Outgoing]:
    """As the bot does it: the REST channel's messages, their meta taken out, then formatted."""
    return to_outgoing(*collect_meta(raw))


def callback_data(reply: Any) -> list[str]:
    markup = keyboard(reply)
    return [b.callback_data for row in markup.inline_keyboard for b in row] if markup else []


def test_a_knowledge_base_answer_gets_thumbs_within_telegrams_64_bytes() -> None:
    (reply,) = outgoing(kb_answer())
    assert reply.html == "<b>Title</b>\nAnswer\n\n📍 City Hall"
    assert [title for title, _ in reply.buttons] == ["👍", "👎"]
    data = callback_data(reply)
    token = answer_token("pension-lump-sum-withdrawal")
    assert data == [f'rasa|/rate_answer_up{{"answer":"{token}"}}',
                    f'rasa|/rate_answer_down{{"answer":"{token}"}}']
    assert all(len(d.encode()) <= callbacks.MAX_BYTES for d in data)
    assert len(keyboard(reply).inline_keyboard) == 1  # side by side


@pytest.mark.parametrize("meta", [
    {"emergency": True, "articles": ["emergency-numbers"], "answer_language": "en"},
    {"handoff": "offered", "answer_language": "en"},
    {"articles": ["a", "b"], "unsure": True, "answer_language": "en"},
    {"articles": [], "unanswered": True, "answer_language": "en"},
])
def test_no_thumbs_under_emergencies_handoffs_topic_choices_or_no_answer(meta: dict[str, Any]
                                                                         ) -> None:
    messages = [{"text": "Call 119", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
                {"custom": {"meta": meta}}]
    (reply,) = outgoing(messages)
    assert reply.buttons == [("Yes", "/affirm")]


def test_no_thumbs_under_small_talk() -> None:
    (reply,) = outgoing([{"text": "You're welcome!"}])
    assert reply.buttons == [] and keyboard(reply) is None


# --- what staff see -----------------------------------------------------------------------------

async def test_the_inbox_lists_questions_whose_answer_was_rated_down(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}"
    database = Database(url)
    await database.create_schema()
    try:
        store = FeedbackStore(url)
        now = dt.datetime.now(dt.UTC)
        for chat, rating, question in [(1, "down", "Where do I throw away a sofa?"),
                                       (2, "up", "Which bag for plastic?"),
                                       (3, "down", "")]:
            await store.record(Rated(chat, "garbage-sorting", "en", rating, question,
                                              now))
        await store.close()
        async with database.sessions() as session:
            items = await open_items(session, days=7, low_confidence=0.5)
            assert [(i.text, i.reason) for i in items] == [
                ("Where do I throw away a sofa?", "answer rated 👎 (garbage-sorting)")]
            (again,) = await texts_for(session, [items[0].key])
            assert again.text == "Where do I throw away a sofa?"
            figures = await dashboard(session, days=7, zone="Asia/Tokyo", low_confidence=0.5)
        assert (figures.thumbs_up, figures.thumbs_down) == (1, 2)
        assert figures.satisfaction == pytest.approx(1 / 3)
    finally:
        await database.close()


# --- once through the real Rasa -----------------------------------------------------------------

@pytest.mark.e2e
async def test_thumbs_down_through_rasa_is_recorded_and_offers_a_counselor(desk: LocalDesk
                                                                           ) -> None:
    chat = desk.new_chat("en")
    answered = await desk.say(chat, "How do I sort my garbage? Which bag do I use?")
    assert answered.turn.articles[:1] == ["garbage-sorting"]
    rated = next(r for r in answered.replies if "rate_answer_down" in str(r.get("reply_markup")))
    down = next(b["callback_data"] for row in rated["reply_markup"]["inline_keyboard"]
                for b in row if "/rate_answer_down" in b["callback_data"])
    pressed = await desk.press(chat, rated["message_id"], down)
    assert pressed.turn.intent == "rate_answer_down"
    assert "Sorry this answer did not help" in pressed.answer
    assert "counselor" in pressed.answer
    assert any(b["callback_data"].endswith("/affirm") for b in pressed.buttons)

    store = FeedbackStore(desk.settings.db_url)
    try:
        (row,) = await store.for_chat(chat.id)
        assert (row.article_id, row.rating, row.language) == ("garbage-sorting", "down", "en")
        assert row.question == "How do I sort my garbage? Which bag do I use?"
        up = down.replace("rate_answer_down", "rate_answer_up")
        await desk.press(chat, rated["message_id"], up)
        (row,) = await store.for_chat(chat.id)
        assert row.rating == "up"
    finally:
        await store.close()


def test_the_migrations_cover_the_feedback_table() -> None:
    from helpdesk.schema import metadata

    assert any(meta.tables.get("answer_feedback") is AnswerFeedback.__table__
               for meta in metadata())
