"""The bot in webhook mode, as a separate process, with Telegram's secret token checked."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from emulator.state import EmulatorState
from helpdesk.local_desk import free_port
from helpdesk.settings import ROOT, Settings


async def test_webhook_mode_answers_and_refuses_a_wrong_secret(
        emulator: tuple[EmulatorState, int], settings: Settings, tmp_path) -> None:
    state, web_port = emulator
    hook_port = free_port()
    env = {**os.environ, **settings.as_env(), "PYTHONPATH": str(ROOT),
           "WEB_PORT": str(web_port), "WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/telegram",
           "WEBHOOK_SECRET": "hook-secret", "WEBHOOK_PORT": str(hook_port),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}"}
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env, cwd=ROOT,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if state.webhook:
                break
            await asyncio.sleep(0.1)
        assert state.webhook == {"url": f"http://127.0.0.1:{hook_port}/telegram",
                                 "secret_token": "hook-secret"}
        chat = state.chat(321, "en")
        await state.resident_text(chat, "/help")
        reply = await state.events_after(chat, chat.events[-1].seq, timeout=20)
        assert reply and "/human" in reply[0].payload["text"]

        async with httpx.AsyncClient() as client:
            forged = await client.post(f"http://127.0.0.1:{hook_port}/telegram", json={},
                                       headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert forged.status_code == 403
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 30)
