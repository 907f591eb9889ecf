"""/subscribe and /unsubscribe with the real bot against the Bot API emulator (no Rasa: these
commands never reach it), and a notice sent by staff reaching the resident through the bot's
own outbox sender."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.app import COMMANDS
from bot.broadcast import Broadcasts, Text
from bot.subscriptions import DISASTER, Subscriptions
from emulator.state import Chat
from helpdesk.local_desk import Exchange, LocalDesk
from helpdesk.settings import Settings


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[LocalDesk]:
    settings = Settings(_env_file=None, telegram_bot_token=None, data_dir=tmp_path,
                        rasa_token="unused", handoff_machine_translation=False,
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    async with LocalDesk(settings) as running:
        yield running


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def last_edit(exchange: Exchange) -> dict[str, Any]:
    return [e["payload"] for e in exchange.events if e["kind"] == "edit"][-1]


async def choose_portuguese(desk: LocalDesk, chat: Chat) -> None:
    start = await desk.say(chat, "/start")
    await desk.press(chat, start.replies[0]["message_id"], "lang|pt")


async def test_subscribe_with_buttons_in_the_residents_language(desk: LocalDesk) -> None:
    chat = desk.new_chat("pt-BR")
    await choose_portuguese(desk, chat)
    shown = await desk.say(chat, "/subscribe")
    menu = shown.replies[0]
    assert menu["text"].startswith("Avisos do atendimento")
    labels = [label for label, _ in buttons(menu)]
    assert labels == ["⬜ " + texts.text("sub_topic_disaster", "pt"),
                      "⬜ " + texts.text("sub_topic_garbage", "pt"),
                      "⬜ " + texts.text("sub_topic_news", "pt"),
                      texts.text("sub_done_button", "pt")]
    message_id = menu["message_id"]

    toggled = last_edit(await desk.press(chat, message_id, "sub|t:disaster"))
    assert buttons(toggled)[0][0] == "✅ " + texts.text("sub_topic_disaster", "pt")

    # Garbage reminders first ask for the district.
    asked = last_edit(await desk.press(chat, message_id, "sub|t:garbage"))
    assert asked["text"] == texts.text("subscribe_pick_district", "pt")
    assert ("Sample district A", "sub|d:sample-a") in buttons(asked)
    picked = last_edit(await desk.press(chat, message_id, "sub|d:sample-b"))
    assert buttons(picked)[1][0] == ("✅ " + texts.text("sub_topic_garbage", "pt")
                                     + " (Sample district B)")

    done = last_edit(await desk.press(chat, message_id, "sub|done"))
    assert done["text"].startswith("Você vai receber:")
    assert "buttons" not in done and "reply_markup" not in done
    row = await Subscriptions(desk.services.store).get(chat.id)
    assert row is not None and (row.disaster, row.garbage, row.news, row.district) == (
        True, True, False, "sample-b")
    assert row.language == "pt"

    off = last_edit(await desk.press(chat, message_id, "sub|t:disaster"))
    assert buttons(off)[0][0].startswith("⬜")
    stale = await desk.press(chat, message_id, "sub|d:nowhere")
    assert [e["payload"]["text"] for e in stale.events if e["kind"] == "toast"] == [
        texts.text("stale_button", "pt")]

    bye = await desk.say(chat, "/unsubscribe")
    assert bye.answer == texts.text("unsubscribe_done", "pt")
    again = await desk.say(chat, "/unsubscribe")
    assert again.answer == texts.text("unsubscribe_nothing", "pt")
    assert await Subscriptions(desk.services.store).recipients(DISASTER) == []


async def test_a_notice_reaches_a_subscriber_through_the_running_bot(desk: LocalDesk) -> None:
    chat = desk.new_chat("vi")
    shown = await desk.say(chat, "/subscribe")  # the Telegram app's language: Vietnamese
    await desk.press(chat, shown.replies[0]["message_id"], "sub|t:disaster")
    before = len(chat.events)
    broadcasts = Broadcasts(desk.services.store)
    notice_id = await broadcasts.create_notice(DISASTER, {
        "en": Text("Evacuation order for the coast."), "ja": Text("かいがんに ひなんしじ。"),
        "vi": Text("Lệnh sơ tán cho khu vực ven biển.")}, created_by="test")
    assert await broadcasts.send(notice_id) == 1
    for _ in range(200):
        if (await broadcasts.progress(notice_id)).done:
            break
        await asyncio.sleep(0.05)
    notices = [e.payload["text"] for e in chat.events[before:]
               if e.direction == "out" and e.kind == "message"]
    assert len(notices) == 1 and "Lệnh sơ tán" in notices[0]
    assert (await broadcasts.progress(notice_id)).sent == 1


def test_subscribe_is_in_the_bots_command_list() -> None:
    assert {"subscribe", "unsubscribe"} <= {name for name, _ in COMMANDS}
