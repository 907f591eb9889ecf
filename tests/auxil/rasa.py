"""A stand-in for Rasa where only the bot's side is under test."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.rasa_client import RasaReply


class EchoRasa:
    """Answers every message with its text, after a delay that makes later messages of a chat
    finish first if nothing kept them in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> RasaReply:
        self.seen.append(text)
        await asyncio.sleep(0.3 if text.endswith("1") else 0.01)
        return RasaReply([{"text": f"echo: {text}"}], "ask_question", 0.9, {})

    async def intent(self, text: str) -> str | None:
        return "ask_question"

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        pass
