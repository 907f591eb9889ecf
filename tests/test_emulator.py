"""The Bot API emulator answers python-telegram-bot's real HTTP calls as Telegram would."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI, Request
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, InvalidToken

from emulator.html_entities import EntityParseError, parse_html
from emulator.state import EmulatorState
from helpdesk.settings import EMULATOR_BOT_TOKEN
from tests.auxil.servers import serving


def bot_for(port: int, token: str = EMULATOR_BOT_TOKEN) -> Bot:
    return Bot(token, base_url=f"http://127.0.0.1:{port}/bot")


async def test_get_me_and_wrong_token(emulator: tuple[EmulatorState, int]) -> None:
    _, port = emulator
    async with bot_for(port) as bot:
        assert bot.username == "HamamatsuHelpDeskBot"
    with pytest.raises(InvalidToken):
        async with bot_for(port, "1000000001:wrong"):
            pass


async def test_updates_flow_and_html_becomes_entities(emulator: tuple[EmulatorState, int]
                                                      ) -> None:
    state, port = emulator
    chat = state.chat(42, "vi")
    await state.resident_text(chat, "xin chào")
    async with bot_for(port) as bot:
        updates = await bot.get_updates(timeout=1)
        assert [u.message.text for u in updates] == ["xin chào"]
        assert updates[0].message.from_user.language_code == "vi"
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Yes", callback_data="rasa|/affirm")]])
        sent = await bot.send_message(42, "<b>Chào</b> bạn &amp; <a href=\"https://x.jp\">link</a>",
                                      parse_mode="HTML", reply_markup=keyboard)
        assert sent.text == "Chào bạn & link"
        assert [e.type for e in sent.entities] == ["bold", "text_link"]
        edited = await bot.edit_message_text("edited", chat_id=42, message_id=sent.message_id)
        assert edited.text == "edited"
        with pytest.raises(BadRequest, match=r"(?i)parse entities"):
            await bot.send_message(42, "<b>unclosed", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await bot.send_message(42, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(999, "nobody")
    kinds = [(e.kind, e.direction) for e in chat.events]
    assert kinds == [("message", "in"), ("message", "out"), ("edit", "out")]


async def test_callback_query_and_toast(emulator: tuple[EmulatorState, int]) -> None:
    state, port = emulator
    chat = state.chat(7)
    async with bot_for(port) as bot:
        sent = await bot.send_message(7, "Pick", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("A", callback_data="lang|en")]]))
        await state.resident_presses(chat, sent.message_id, "lang|en")
        update = (await bot.get_updates(timeout=1))[0]
        assert update.callback_query.data == "lang|en"
        assert await update.callback_query.answer("thanks")
    assert chat.events[-1].kind == "toast"


async def test_webhook_delivery_carries_the_secret(emulator: tuple[EmulatorState, int]) -> None:
    state, port = emulator
    received: list[tuple[str | None, dict]] = []
    hook = FastAPI()

    @hook.post("/hook")
    async def _hook(request: Request) -> dict:
        received.append((request.headers.get("x-telegram-bot-api-secret-token"),
                         await request.json()))
        return {}

    async with serving(hook) as hook_port, bot_for(port) as bot:
        await bot.set_webhook(f"http://127.0.0.1:{hook_port}/hook", secret_token="s3cret")
        with pytest.raises(Exception, match="webhook is active"):
            await bot.get_updates()
        await state.resident_text(state.chat(5), "hi")
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received and received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "hi"
        await bot.delete_webhook()


def test_html_parser_counts_utf16_offsets() -> None:
    text, entities = parse_html("😀 <i>नमस्ते</i>")
    assert text == "😀 नमस्ते"
    assert entities == [{"type": "italic", "offset": 3, "length": 6}]
    with pytest.raises(EntityParseError):
        parse_html("<script>x</script>")
