"""The bot process is SIGKILLed at random moments while 1,000 messages from 100 residents arrive
over its webhook; after each restart, every message ends up answered exactly once, in order.

Rasa is played by a small HTTP server here (this test is about the bot's inbox, not about NLU),
answering each message with its own text after a short random delay, so kills land while
updates are being received, handled and answered.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from emulator.app import create_app
from emulator.state import EmulatorState
from helpdesk.local_desk import free_port
from helpdesk.settings import EMULATOR_BOT_TOKEN, ROOT
from tests.auxil.servers import serving

RESIDENTS, MESSAGES_EACH, KILLS = 100, 10, 5


def echo_rasa(seed: int) -> FastAPI:
    app = FastAPI()
    delays = random.Random(seed)
    last: dict[str, str] = {}

    @app.post("/webhooks/rest/webhook")
    async def webhook(body: dict[str, Any]) -> list[dict[str, Any]]:
        await asyncio.sleep(delays.uniform(0, 0.03))
        last[body["sender"]] = body["message"]
        return [{"recipient_id": body["sender"], "text": f"echo: {body['message']}"}]

    @app.get("/conversations/{sender}/tracker")
    async def tracker(sender: str) -> dict[str, Any]:
        return {"latest_message": {"text": last.get(sender),
                                   "intent": {"name": "ask_question", "confidence": 0.9}}}

    @app.get("/status")
    async def status() -> dict[str, Any]:
        return {"model_id": "echo"}

    return app


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def replies(state: EmulatorState, chat_id: int) -> list[str]:
    return [e.payload["text"] for e in state.chats[chat_id].events
            if e.direction == "out" and e.kind == "message"]


@pytest.mark.e2e
async def test_sigkilled_bot_answers_every_message_exactly_once(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_TEST_SEED", "20261125"))
    chaos = random.Random(seed)
    state = EmulatorState(EMULATOR_BOT_TOKEN)
    async with serving(create_app(state)) as web_port, serving(echo_rasa(seed)) as rasa_port:
        hook_port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "WEB_PORT": str(web_port), "RASA_URL": f"http://127.0.0.1:{rasa_port}",
               "RASA_TOKEN": "unused", "DATA_DIR": str(tmp_path),
               "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
               "WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/telegram",
               "WEBHOOK_PORT": str(hook_port), "WEBHOOK_SECRET": "crash-test",
               "INBOX_LEASE_S": "1", "LOG_LEVEL": "WARNING",
               # Each resident writes ten messages in a few seconds: not a flood here.
               "FLOOD_MESSAGES": "1000"}
        env.pop("TELEGRAM_BOT_TOKEN", None)  # no token: the bot talks to this emulator
        log = tmp_path / "bot.log"
        chats = [state.chat(8_000_000 + n, "en") for n in range(RESIDENTS)]
        expected = {chat.id: [f"echo: {chat.id} says {k}" for k in range(MESSAGES_EACH)]
                    for chat in chats}

        async def residents_write() -> None:
            for k in range(MESSAGES_EACH):
                for chat in chats:
                    await state.resident_text(chat, f"{chat.id} says {k}")
                    await asyncio.sleep(chaos.uniform(0, 0.004))

        bot = start_bot(env, log)
        writing = asyncio.create_task(residents_write())
        try:
            for _ in range(KILLS):
                await asyncio.sleep(chaos.uniform(1.5, 4.0))
                os.killpg(bot.pid, signal.SIGKILL)
                await asyncio.to_thread(bot.wait)
                bot = start_bot(env, log)
            await writing
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 240
            while loop.time() < deadline and any(
                    len(replies(state, chat.id)) < MESSAGES_EACH for chat in chats):
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)  # time for a duplicate, if any, to show up
        finally:
            os.killpg(bot.pid, signal.SIGTERM)
            await asyncio.to_thread(bot.wait, 30)

    answered = {chat.id: replies(state, chat.id) for chat in chats}
    counts = Counter(text for texts in answered.values() for text in texts)
    duplicates = {text: n for text, n in counts.items() if n > 1}
    missing = {chat_id: [t for t in texts if t not in answered[chat_id]]
               for chat_id, texts in expected.items()}
    missing = {chat_id: texts for chat_id, texts in missing.items() if texts}
    assert not duplicates, f"answered more than once: {list(duplicates.items())[:5]}"
    assert not missing, f"never answered: {list(missing.items())[:5]}\n{log.read_text()[-3000:]}"
    assert answered == expected  # and in each resident's order
