"""The whole message path for real: emulator → bot → Rasa → actions → knowledge base and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.local_desk import LocalDesk
from helpdesk.settings import Settings
from knowledge.articles import CONTENT_DIR, SERVED_LANGUAGES, load_article

pytestmark = pytest.mark.e2e


def title(article_id: str, language: str) -> str:
    return load_article(CONTENT_DIR / f"{article_id}.yml").translations[language].title


async def test_start_greets_and_offers_every_language(desk: LocalDesk) -> None:
    chat = desk.new_chat("en")
    exchange = await desk.say(chat, "/start")
    assert len(exchange.replies) == 1
    assert "Hamamatsu" in exchange.answer
    codes = [b["callback_data"] for b in exchange.buttons]
    assert codes == [f"lang|{code}" for code in SERVED_LANGUAGES]

    picked = await desk.press(chat, exchange.replies[0]["message_id"], "lang|pt")
    edits = [e for e in picked.events if e["kind"] == "edit"]
    assert edits, "choosing a language edits the picker into a confirmation"
    resident = await desk.services.store.resident(chat.id)
    assert resident is not None and resident.chosen_language == "pt"


@pytest.mark.parametrize(("question", "code", "article", "language"), [
    ("How do I sort my garbage? Which bag do I use?", "en", "garbage-sorting", "en"),
    ("Onde eu pego o saco de lixo da prefeitura?", None, "garbage-sorting", "pt"),
    ("Tôi cần gia hạn visa thì đi đâu?", None, "visa-renewal", "vi"),
    ("राष्ट्रिय स्वास्थ्य बीमा कसरी बनाउने?", None, "national-health-insurance", "ne"),
])
async def test_question_is_answered_from_the_right_article(
        desk: LocalDesk, question: str, code: str | None, article: str, language: str) -> None:
    exchange = await desk.say(desk.new_chat(code), question)
    assert exchange.turn is not None
    assert exchange.turn.intent == "ask_question"
    assert exchange.turn.language == language
    assert exchange.turn.articles[:1] == [article]
    assert exchange.turn.answer_language == language
    assert title(article, language) in exchange.answer
    assert not exchange.turn.machine_translated


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "location", "document"])
async def test_non_text_messages_get_a_polite_reply(desk: LocalDesk, kind: str) -> None:
    from emulator.client_api import _attachment

    exchange = await desk.send(desk.new_chat("en"), _attachment(kind, None))
    assert len(exchange.replies) == 1
    assert "only read text" in exchange.answer


async def test_edited_message_is_acknowledged(desk: LocalDesk) -> None:
    chat = desk.new_chat("en")
    first = await desk.say(chat, "hello")
    resident_message = next(e for e in first.events if e["direction"] == "in")["payload"]
    exchange = await desk.edit(chat, resident_message["message_id"], "hello again")
    assert "edited" in exchange.answer


async def test_request_for_a_human_is_confirmed_then_started(desk: LocalDesk) -> None:
    chat = desk.new_chat("en")
    offer = await desk.say(chat, "I want to talk to a real person please")
    assert offer.turn.intent == "request_human"
    assert offer.turn.handoff
    yes = next(b for b in offer.buttons if b["callback_data"].endswith("/affirm"))
    started = await desk.press(chat, offer.replies[-1]["message_id"], yes["callback_data"])
    assert started.turn.handoff
    assert "counselor" in started.answer


async def test_emergency_gives_numbers_first(desk: LocalDesk) -> None:
    exchange = await desk.say(desk.new_chat("en"), "my friend collapsed and is not breathing!!")
    assert exchange.turn.intent == "emergency"
    assert exchange.turn.emergency
    assert exchange.answer.index("119") < 120


async def test_unknown_command_and_help(desk: LocalDesk) -> None:
    chat = desk.new_chat("en")
    assert "/help" in (await desk.say(chat, "/nonsense")).answer
    assert "/human" in (await desk.say(chat, "/help")).answer


async def test_vague_question_offers_topics_and_a_pick_answers_it(desk: LocalDesk) -> None:
    chat = desk.new_chat("en")
    offer = await desk.say(chat, "what documents do I need")
    assert offer.turn.intent == "ask_question"
    topics = [b for b in offer.buttons if "/ask_question" in b["callback_data"]]
    assert 1 < len(topics) <= 3, offer.buttons
    assert all(len(b["callback_data"].encode()) <= 64 for b in topics)
    picked = await desk.press(chat, offer.replies[-1]["message_id"], topics[1]["callback_data"])
    chosen = topics[1]["callback_data"].split('"article":"')[1].split('"')[0]
    assert picked.turn.articles == [chosen]
    assert title(chosen, "en") in picked.answer


async def test_handoff_ticket_with_the_real_rasa(backend: Settings, tmp_path: Path) -> None:
    """Offer, confirmation and the emergency check through the real Rasa and action server;
    the ticket lives in a forum topic of the emulated staff group."""
    group_id, counselor = -1001000000009, 901
    settings = backend.model_copy(update={
        "staff_chat_id": group_id, "office_days": list(range(7)), "office_opens": "00:00",
        "office_closes": "24:00",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"})
    async with LocalDesk(settings) as desk:
        group = desk.state.group(group_id, "Counselors")
        desk.state.set_member(group, counselor, "administrator", "Aiko", can_manage_topics=True)
        chat = desk.new_chat("en")
        await desk.say(chat, "how do I renew my visa?")
        offer = await desk.say(chat, "I want to talk to a real person please")
        yes = next(b for b in offer.buttons if b["callback_data"].endswith("/affirm"))
        await desk.press(chat, offer.replies[-1]["message_id"], yes["callback_data"])
        ticket = await desk.services.tickets.active_for_chat(chat.id)
        assert ticket is not None and ticket.topic_id in group.topics

        waiting = await desk.say(chat, "my card expires next week")
        assert waiting.replies == []  # the counselor has the conversation
        danger = await desk.say(chat, "my friend collapsed and is not breathing!!")
        assert "119" in danger.answer  # an emergency is not left waiting for a counselor
        relayed = desk.state.topic_messages(group, ticket.topic_id)
        assert any("not breathing" in m.get("text", "") for m in relayed)

        await desk.member_says(group, counselor, "Please bring your card and passport.",
                               ticket.topic_id)
        assert "Please bring your card and passport." in chat.events[-1].payload["text"]
        await desk.member_says(group, counselor, "/close", ticket.topic_id)
        assert (await desk.services.tickets.get(ticket.id)).status == "closed"
