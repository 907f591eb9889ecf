"""Handoff tickets end to end on the Telegram side: the real bot against the Bot API emulator's
forum supergroup, with a stand-in for Rasa (what Rasa decides is covered by test_end_to_end;
here only its reply's meta matters: `handoff: "requested"` opens a ticket)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import texts
from bot.app import build_services
from bot.rasa_client import RasaReply
from bot.services import Services
from bot.tickets import CLOSED, OPEN, QUEUED, Ticket, TicketMessage
from emulator.client_api import _attachment
from emulator.state import Chat
from helpdesk.local_desk import LocalDesk
from helpdesk.settings import Settings

GROUP = -1001000000001
OWNER, COUNSELOR, VOLUNTEER, LEFT = 800, 801, 802, 803
QUESTION = "Como faço para renovar o meu visto de residência em Hamamatsu?"


class FakeRasa:
    """Offers a counselor on /request_human, starts the handoff on /affirm, answers the rest."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.parsed: list[str] = []

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> RasaReply:
        self.seen.append(text)
        if text == "/request_human":
            return RasaReply([{"text": "Would you like a counselor?",
                               "buttons": [{"title": "Yes", "payload": "/affirm"},
                                           {"title": "No", "payload": "/deny"}]}],
                             "request_human", 1.0, {"handoff": "offered"})
        if text == "/affirm":
            return RasaReply([{"text": "I have passed your request to the counselors."}],
                             "affirm", 1.0, {"handoff": "requested"})
        return RasaReply([{"text": f"Bot answer to: {text}"}], "ask_question", 0.9,
                         {"articles": ["visa-renewal", "residence-card"]})

    async def intent(self, text: str) -> str | None:
        self.parsed.append(text)
        return "emergency" if "socorro" in text.lower() else "ask_question"

    async def close(self) -> None:
        pass


class FakeTranslator:
    """Engines for en↔pt only, so both the translated and the as-written paths show."""

    async def can_translate(self, src: str, tgt: str) -> bool:
        return (src, tgt) in {("en", "pt"), ("pt", "en")}

    async def translate(self, text: str, src: str, tgt: str) -> str | None:
        return f"[{tgt}] {text}"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        _env_file=None, telegram_bot_token=None, data_dir=tmp_path, rasa_token="unused",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", staff_chat_id=GROUP,
        staff_teams={"pt": "@equipe_pt"}, staff_general_queue="@counselors",
        office_days=list(range(7)), office_opens="00:00", office_closes="24:00",
        handoff_machine_translation=False, handoff_check_interval_s=3600.0)
    return Settings(**{**values, **overrides})


def stand_ins(services: Services, translator: Any = None) -> Services:
    services.rasa = FakeRasa()  # type: ignore[assignment]
    services.translator = translator
    return services


@asynccontextmanager
async def running(settings: Settings, translator: Any = None,
                  ) -> AsyncIterator[tuple[LocalDesk, Chat]]:
    desk = LocalDesk(settings)
    stand_ins(desk.services, translator)
    group = desk.state.group(GROUP, "Hamamatsu counselors")
    desk.state.set_member(group, OWNER, "creator", "Owner")
    desk.state.set_member(group, COUNSELOR, "administrator", "Aiko", can_manage_topics=True)
    desk.state.set_member(group, VOLUNTEER, "member", "Vo")
    desk.state.set_member(group, LEFT, "left", "Former")
    async with desk:
        yield desk, group


@pytest.fixture
async def staffed(tmp_path: Path) -> AsyncIterator[tuple[LocalDesk, Chat]]:
    async with running(make_settings(tmp_path)) as pair:
        yield pair


def rasa(desk: LocalDesk) -> FakeRasa:
    return desk.services.rasa  # type: ignore[return-value]


def bot_messages(chat: Chat) -> list[dict[str, Any]]:
    return [e.payload for e in chat.events if e.direction == "out" and e.kind == "message"]


def topic_messages(desk: LocalDesk, group: Chat, ticket: Ticket) -> list[dict[str, Any]]:
    return desk.state.topic_messages(group, ticket.topic_id)


async def open_ticket(desk: LocalDesk, chat: Chat, question: str = QUESTION) -> Ticket:
    """The resident asks, asks for a person, and confirms the offer with its button."""
    await desk.say(chat, question)
    offer = await desk.say(chat, "/human")
    yes = next(b for b in offer.buttons if b["callback_data"].endswith("/affirm"))
    await desk.press(chat, offer.replies[-1]["message_id"], yes["callback_data"])
    ticket = await desk.services.tickets.active_for_chat(chat.id)
    assert ticket is not None
    return ticket


async def stored_messages(desk: LocalDesk, ticket: Ticket) -> list[TicketMessage]:
    return await desk.services.tickets.messages(ticket.id)


async def test_confirmed_handoff_opens_a_topic_with_what_a_counselor_needs(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat = desk.state.chat(next(desk.chat_ids), "pt", "Maria")
    ticket = await open_ticket(desk, chat)

    assert (ticket.status, ticket.language, ticket.subject) == (QUEUED, "pt", QUESTION)
    topic = group.topics[ticket.topic_id]
    assert topic.name.startswith(f"PT · #{ticket.id} · Como faço para renovar")
    created, summary, notice = topic_messages(desk, group, ticket)
    assert created["forum_topic_created"]["name"] == topic.name
    assert f"Ticket #{ticket.id}" in summary["text"] and "Português (pt)" in summary["text"]
    assert "Resident: Maria" in summary["text"]
    assert QUESTION in summary["text"]
    assert "visa-renewal, residence-card" in summary["text"]  # the articles the bot cited
    assert "/request_human" in summary["text"]  # the last turns
    assert "Waiting: 0 min" in summary["text"]
    assert "@equipe_pt" in notice["text"]  # the Portuguese team is notified

    told = bot_messages(chat)[-1]["text"]
    assert told == texts.text("handoff_ticket", "pt", number=ticket.id).replace(
        f"<b>#{ticket.id}</b>", f"#{ticket.id}")

    # A language without its own team goes to the general queue.
    other = await open_ticket(desk, desk.new_chat("vi"), "Tôi cần gia hạn visa thì đi đâu?")
    assert other.id != ticket.id and other.topic_id != ticket.topic_id
    assert "@counselors" in topic_messages(desk, group, other)[-1]["text"]
    assert "general queue" in topic_messages(desk, group, other)[-1]["text"]


async def test_relay_both_ways_text_and_photo(staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat = desk.new_chat("pt")
    ticket = await open_ticket(desk, chat)
    asked_rasa = len(rasa(desk).seen)

    # Resident → topic; the bot does not answer itself.
    said = await desk.say(chat, "Meu cartão vence na semana que vem")
    assert said.replies == []
    photo = await desk.send(chat, _attachment("photo", "o meu cartão"))
    assert photo.replies == []
    assert len(rasa(desk).seen) == asked_rasa
    relayed_text, relayed_photo = topic_messages(desk, group, ticket)[-2:]
    assert "Meu cartão vence na semana que vem" in relayed_text["text"]
    sent_photo = chat.messages[photo.events[0]["payload"]["message_id"]]
    assert relayed_photo["photo"] == sent_photo["photo"]
    assert relayed_photo["caption"] == "o meu cartão"

    # Counselor → resident, as written (no engine configured here).
    await desk.member_says(group, COUNSELOR, "Olá! Traga o cartão e o passaporte.",
                           ticket.topic_id)
    reply = bot_messages(chat)[-1]
    assert reply["text"].endswith("Olá! Traga o cartão e o passaporte.")
    assert reply["text"].startswith("💬 Atendente:")
    document = _attachment("document", None)
    await desk.member_sends(group, COUNSELOR, document, ticket.topic_id)
    assert bot_messages(chat)[-1]["document"] == document["document"]

    ticket = await desk.services.tickets.get(ticket.id)
    assert ticket.status == OPEN and ticket.counselor_id == COUNSELOR
    assert ticket.counselor_name == "Aiko" and ticket.first_response_at is not None
    stored = await stored_messages(desk, ticket)
    assert [(m.direction, m.kind) for m in stored] == [
        ("resident", "text"), ("resident", "photo"), ("counselor", "text"),
        ("counselor", "document")]

    # Counselors see a resident's number as written; the database keeps it redacted.
    await desk.say(chat, "Meu telefone é 090-1234-5678")
    assert "090-1234-5678" in topic_messages(desk, group, ticket)[-1]["text"]
    assert (await stored_messages(desk, ticket))[-1].text == "Meu telefone é [phone]"
    # An edit is passed on as such rather than answered.
    edited = await desk.edit(chat, said.events[0]["payload"]["message_id"], "Vence amanhã")
    assert [e for e in edited.events if e["direction"] == "out"] == []
    assert "(edited a message)" in topic_messages(desk, group, ticket)[-1]["text"]
    # A message at Telegram's limit still fits once labelled: it is split, not refused.
    long = ("Palavra " * 512).strip()
    assert len(long) == 4095
    before = len(topic_messages(desk, group, ticket))
    await desk.say(chat, long)
    parts = topic_messages(desk, group, ticket)[before:]
    assert len(parts) >= 2 and all(len(p["text"]) <= 4096 for p in parts)
    assert parts[0]["text"].startswith("👤 Resident: Palavra")
    assert " ".join(p["text"] for p in parts).split().count("Palavra") == 512


async def test_an_emergency_during_a_ticket_is_answered_by_the_bot_too(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat = desk.new_chat("pt")
    ticket = await open_ticket(desk, chat)
    calm = await desk.say(chat, "Ainda estou esperando")
    assert calm.replies == [] and rasa(desk).parsed[-1] == "Ainda estou esperando"
    urgent = await desk.say(chat, "Socorro, meu marido está me batendo agora")
    # The counselors see it, and the resident is answered at once instead of waiting.
    assert "Socorro, meu marido" in topic_messages(desk, group, ticket)[-1]["text"]
    assert rasa(desk).seen[-1] == "Socorro, meu marido está me batendo agora"
    assert urgent.replies, "an emergency must not wait for a counselor"


async def test_a_reply_reaches_only_its_own_tickets_resident(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    mine, theirs = desk.new_chat("pt"), desk.new_chat("pt")
    ticket = await open_ticket(desk, mine)
    other = await open_ticket(desk, theirs, "Preciso de ajuda com o seguro de saúde")
    before = len(bot_messages(theirs))
    await desk.member_says(group, COUNSELOR, "Só para o primeiro residente.", ticket.topic_id)
    assert bot_messages(mine)[-1]["text"].endswith("Só para o primeiro residente.")
    assert len(bot_messages(theirs)) == before
    assert topic_messages(desk, group, other)[-1]["text"].startswith("🔔")


async def test_a_topic_that_cannot_be_opened_closes_the_ticket_and_says_so(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    desk.state.set_member(group, desk.state.bot_user["id"], "member")  # no right to open topics
    chat = desk.new_chat("en")
    await desk.say(chat, "My landlord wants me out, what can I do?")
    offer = await desk.say(chat, "/human")
    yes = next(b for b in offer.buttons if b["callback_data"].endswith("/affirm"))
    started = await desk.press(chat, offer.replies[-1]["message_id"], yes["callback_data"])
    assert started.answer.endswith(texts.text("unavailable", "en"))
    assert await desk.services.tickets.active_for_chat(chat.id) is None
    assert group.topics == {}
    assert (await desk.say(chat, "hello")).answer == "Bot answer to: hello"


async def test_counselor_reply_is_machine_translated_only_where_an_engine_exists(
        tmp_path: Path) -> None:
    async with running(make_settings(tmp_path), FakeTranslator()) as (desk, group):
        chat = desk.new_chat("pt")
        ticket = await open_ticket(desk, chat)
        # Counselors read the resident's turns in their own language too, labelled MT.
        summary = topic_messages(desk, group, ticket)[1]["text"]
        assert f"↳ [en] {QUESTION} (MT)" in summary
        assert "[en] /request_human" not in summary
        english = "Please bring your residence card and your passport to the city hall."
        await desk.member_says(group, COUNSELOR, english, ticket.topic_id)
        text = bot_messages(chat)[-1]["text"]
        assert "(tradução automática)" in text
        assert f"[pt] {english}" in text and text.endswith(f"Original:\n{english}")

        # Written in the resident's language: relayed as written, unlabelled.
        await desk.member_says(group, COUNSELOR, "Pode vir amanhã de manhã, por favor.",
                               ticket.topic_id)
        assert "automática" not in bot_messages(chat)[-1]["text"]

        # No engine for ja→pt: relayed as written.
        await desk.member_says(group, COUNSELOR, "あしたの朝、市役所に来てください。",
                               ticket.topic_id)
        assert bot_messages(chat)[-1]["text"].endswith("あしたの朝、市役所に来てください。")
        assert "automática" not in bot_messages(chat)[-1]["text"]
        stored = await stored_messages(desk, ticket)
        assert [m.machine_translated for m in stored] == [True, False, False]


async def test_bot_command_returns_the_resident_to_the_bot(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat = desk.new_chat("pt")
    ticket = await open_ticket(desk, chat)

    back = await desk.say(chat, "/bot")
    assert back.answer == texts.text("handoff_back_to_bot", "pt", number=ticket.id)
    ticket = await desk.services.tickets.get(ticket.id)
    assert ticket.status == CLOSED and "/bot" in ticket.close_note
    assert group.topics[ticket.topic_id].is_closed
    assert "returned to the bot" in topic_messages(desk, group, ticket)[-2]["text"]

    # The bot answers again, and nothing more reaches the topic.
    in_topic = len(topic_messages(desk, group, ticket))
    again = await desk.say(chat, "Onde pago o imposto?")
    assert again.answer == "Bot answer to: Onde pago o imposto?"
    assert len(topic_messages(desk, group, ticket)) == in_topic
    assert (await desk.say(chat, "/bot")).answer == texts.text("handoff_no_ticket", "pt")


async def test_close_asks_for_a_rating_and_stores_it(staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat, stranger = desk.new_chat("pt"), desk.new_chat("en")
    ticket = await open_ticket(desk, chat)
    await desk.member_says(group, COUNSELOR, "Pronto, resolvido.", ticket.topic_id)

    await desk.member_says(group, COUNSELOR, "/close explained renewal by phone",
                           ticket.topic_id)
    ticket = await desk.services.tickets.get(ticket.id)
    assert ticket.status == CLOSED and ticket.close_note == "explained renewal by phone"
    assert group.topics[ticket.topic_id].is_closed
    assert "closed by Aiko" in topic_messages(desk, group, ticket)[-2]["text"]
    ask = bot_messages(chat)[-1]
    assert ask["text"] == texts.text("handoff_closed", "pt", number=ticket.id)
    buttons = [b["callback_data"] for row in ask["reply_markup"]["inline_keyboard"]
               for b in row]
    assert buttons == [f"rate|{ticket.id}:{score}" for score in range(1, 6)]

    # Another resident can't rate someone else's ticket, even with forged button data.
    hello = await desk.say(stranger, "hello")
    forged = await desk.press(stranger, hello.replies[-1]["message_id"], f"rate|{ticket.id}:1")
    assert any(e["kind"] == "toast" for e in forged.events)
    assert (await desk.services.tickets.get(ticket.id)).rating is None

    rated = await desk.press(chat, ask["message_id"], f"rate|{ticket.id}:4")
    assert [e for e in rated.events if e["kind"] == "edit"]
    assert (await desk.services.tickets.get(ticket.id)).rating == 4
    assert "4/5" in topic_messages(desk, group, ticket)[-1]["text"]
    again = await desk.press(chat, ask["message_id"], f"rate|{ticket.id}:1")
    assert any(e["kind"] == "toast" for e in again.events)
    assert (await desk.services.tickets.get(ticket.id)).rating == 4

    # The next message goes to the bot again.
    assert (await desk.say(chat, "Obrigado")).answer == "Bot answer to: Obrigado"


async def test_queue_lists_active_tickets_for_staff_only(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    first = await open_ticket(desk, desk.new_chat("pt"))
    second = await open_ticket(desk, desk.new_chat("vi"), "Tôi cần gia hạn visa thì đi đâu?")
    closed = await open_ticket(desk, desk.new_chat("en"), "Where do I pay my city tax?")
    await desk.member_says(group, COUNSELOR, "/close", closed.topic_id)

    listing = await desk.member_says(group, VOLUNTEER, "/queue")
    [reply] = listing.replies
    assert "Open tickets (2)" in reply["text"]
    lines = reply["text"].splitlines()[1:]
    assert lines[0].startswith(f"#{first.id} · pt · queued · 0 min")
    assert lines[1].startswith(f"#{second.id} · vi · queued · 0 min")
    assert f"#{closed.id}" not in reply["text"]

    ignored = await desk.member_says(group, LEFT, "/queue")
    assert ignored.replies == []


async def test_messages_from_outside_the_staff_are_ignored(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat = desk.new_chat("pt")
    ticket = await open_ticket(desk, chat)
    seen = len(bot_messages(chat))

    # Someone no longer in the group, a bot, and the same words in another group's topic.
    await desk.member_says(group, LEFT, "Me mande seus documentos", ticket.topic_id)
    await desk.member_says(group, LEFT, "/close", ticket.topic_id)
    elsewhere = desk.state.group(-1009999, "Another group")
    topic = await desk.state.create_topic(elsewhere, desk.state.bot_user, "x", 0)
    desk.state.set_member(elsewhere, COUNSELOR, "administrator", "Aiko")
    await desk.member_says(elsewhere, COUNSELOR, "Me mande seus documentos",
                           topic.message_thread_id)
    assert len(bot_messages(chat)) == seen
    assert (await desk.services.tickets.get(ticket.id)).status == QUEUED

    # A plain member of the staff group is a counselor.
    await desk.member_says(group, VOLUNTEER, "Oi, eu posso ajudar.", ticket.topic_id)
    assert bot_messages(chat)[-1]["text"].endswith("Oi, eu posso ajudar.")


async def test_outside_office_hours_the_resident_gets_hours_and_emergency_numbers(
        tmp_path: Path) -> None:
    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).weekday()
    settings = make_settings(tmp_path, office_days=[(today + 1) % 7, (today + 2) % 7],
                             office_opens="09:00", office_closes="17:00",
                             handoff_reflag_after_s=0.0, handoff_check_interval_s=0.1)
    async with running(settings) as (desk, group):
        chat = desk.new_chat("en")
        ticket = await open_ticket(desk, chat, "My landlord wants me out, what can I do?")
        told = bot_messages(chat)[-1]["text"]
        assert "not at their desks" in told and "119" in told and "110" in told
        assert "09:00–17:00 (Asia/Tokyo)" in told
        assert (await desk.services.tickets.get(ticket.id)).status == QUEUED
        assert "outside office hours" in topic_messages(desk, group, ticket)[1]["text"]
        # Nobody is pinged at night: the waiting check stays quiet outside the hours.
        await asyncio.sleep(0.5)
        assert not any("waited" in m.get("text", "")
                       for m in topic_messages(desk, group, ticket))


async def test_a_ticket_waiting_too_long_is_flagged_again(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, handoff_reflag_after_s=0.4,
                             handoff_check_interval_s=0.1)
    async with running(settings) as (desk, group):
        chat = desk.new_chat("pt")
        ticket = await open_ticket(desk, chat)

        def flags() -> list[dict[str, Any]]:
            return [m for m in topic_messages(desk, group, ticket)
                    if "without an answer" in m.get("text", "")]

        for _ in range(50):
            if flags():
                break
            await asyncio.sleep(0.1)
        assert flags() and "@equipe_pt" in flags()[0]["text"]
        assert (await desk.services.tickets.get(ticket.id)).flagged_at is not None

        # Once a counselor answers, the ticket is no longer flagged.
        await desk.member_says(group, COUNSELOR, "Olá, estou aqui.", ticket.topic_id)
        await asyncio.sleep(0.3)  # lets a check that started before the answer finish
        count = len(flags())
        await asyncio.sleep(0.9)
        assert len(flags()) == count


async def test_relay_survives_a_restart_in_the_middle_of_an_open_ticket(
        staffed: tuple[LocalDesk, Chat]) -> None:
    desk, group = staffed
    chat = desk.new_chat("pt")
    ticket = await open_ticket(desk, chat)
    await desk.member_says(group, COUNSELOR, "Olá, pode me mandar uma foto do cartão?",
                           ticket.topic_id)

    await desk.restart_bot(stand_ins(build_services(desk.settings)))

    said = await desk.say(chat, "Vou mandar agora")
    photo = await desk.send(chat, _attachment("photo", None))
    assert said.replies == photo.replies == [] and rasa(desk).seen == []
    assert "Vou mandar agora" in topic_messages(desk, group, ticket)[-2]["text"]
    assert "photo" in topic_messages(desk, group, ticket)[-1]
    await desk.member_says(group, COUNSELOR, "Recebi, obrigado.", ticket.topic_id)
    assert bot_messages(chat)[-1]["text"].endswith("Recebi, obrigado.")
    await desk.member_says(group, COUNSELOR, "/close", ticket.topic_id)
    assert (await desk.services.tickets.get(ticket.id)).status == CLOSED
    async with desk.services.store.sessions() as session:
        directions = list(await session.scalars(
            select(TicketMessage.direction).where(TicketMessage.ticket_id == ticket.id)
            .order_by(TicketMessage.id)))
    assert directions == ["counselor", "resident", "resident", "counselor"]


async def test_without_a_staff_group_no_ticket_is_opened(tmp_path: Path) -> None:
    async with running(make_settings(tmp_path, staff_chat_id=None)) as (desk, group):
        chat = desk.new_chat("pt")
        await desk.say(chat, QUESTION)
        offer = await desk.say(chat, "/human")
        yes = next(b for b in offer.buttons if b["callback_data"].endswith("/affirm"))
        started = await desk.press(chat, offer.replies[-1]["message_id"], yes["callback_data"])
        assert started.answer == "I have passed your request to the counselors."
        assert await desk.services.tickets.active_for_chat(chat.id) is None
        assert group.topics == {}
        assert (await desk.say(chat, "Oi")).answer == "Bot answer to: Oi"
