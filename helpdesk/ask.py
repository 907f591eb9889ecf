"""`make ask`: JSON lines in, one JSON line out per question — each from a new resident.

Every question travels the path a Telegram message takes: the Bot API emulator delivers it as an
update to the real bot, which asks Rasa, whose actions search the knowledge base. Only the JSON
lines go to stdout; everything else goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.residents import decide
from helpdesk.backend import ensure_backend
from helpdesk.local_desk import Exchange, LocalDesk
from helpdesk.logs import configure_logging
from helpdesk.processes import Supervisor
from helpdesk.settings import Settings, get_settings


def result(exchange: Exchange, question: str, telegram_code: str | None) -> dict[str, Any]:
    turn = exchange.turn
    if turn is None:  # handled by the bot itself (a command), without Rasa
        language = decide(question, None, None, telegram_code)
        return {"language": language.written, "intent": "", "articles": [],
                "answer": exchange.answer, "answer_language": language.answer,
                "machine_translated": False, "handoff": False, "emergency": False,
                "latency_ms": round(exchange.latency_ms, 1), "confidence": None,
                "buttons": [b["text"] for b in exchange.buttons], "handled_by": "bot"}
    return {"language": turn.language, "intent": turn.intent or "", "articles": turn.articles,
            "answer": exchange.answer, "answer_language": turn.answer_language,
            "machine_translated": turn.machine_translated, "handoff": turn.handoff,
            "emergency": turn.emergency, "latency_ms": round(exchange.latency_ms, 1),
            "confidence": turn.confidence, "buttons": [b["text"] for b in exchange.buttons],
            "handled_by": "rasa"}


def invalid(error: str) -> dict[str, Any]:
    return {"language": "und", "intent": "", "articles": [], "answer": "", "answer_language": "",
            "machine_translated": False, "handoff": False, "emergency": False, "latency_ms": 0,
            "error": error}


def parse(line: str) -> tuple[str, str | None] | str:
    """(question, Telegram language code), or the reason the line is not a valid request."""
    try:
        request = json.loads(line)
    except json.JSONDecodeError as error:
        return f"not JSON: {error}"
    if not isinstance(request, dict) or not isinstance(request.get("q"), str):
        return 'expected an object with a string "q"'
    code = request.get("telegram_language_code")
    return request["q"], code if isinstance(code, str) and code else None


async def answer_all(settings: Settings, lines: list[str]) -> None:
    # A random first chat ID keeps these one-off residents apart from earlier runs in Rasa's store.
    async with LocalDesk(settings, first_chat_id=secrets.randbelow(10**12) + 10**12) as desk:
        for line in lines:
            request = parse(line)
            if isinstance(request, str):
                output = invalid(request)
            else:
                question, code = request
                chat = desk.new_chat(code)
                output = result(await desk.say(chat, question), question, code)
            sys.stdout.write(json.dumps(output, ensure_ascii=False) + "\n")
            sys.stdout.flush()


def main() -> int:
    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    base = get_settings()
    configure_logging("WARNING")
    supervisor = Supervisor(base.data_dir / "logs")
    with tempfile.TemporaryDirectory(prefix="ask-") as scratch:
        # The one-off residents' language choices and turns go to a scratch database.
        settings = base.model_copy(update={
            "database_url": f"sqlite+aiosqlite:///{Path(scratch) / 'ask.db'}"})
        try:
            ensure_backend(settings, supervisor)
            asyncio.run(answer_all(settings, lines))
        finally:
            supervisor.stop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
