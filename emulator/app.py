"""The emulator's web app: the Bot API, the resident client API and the local chat page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse

from emulator.bot_api import BotAPI
from emulator.client_api import client_router
from emulator.state import EmulatorState

STATIC = Path(__file__).parent / "static"


def create_app(state: EmulatorState) -> FastAPI:
    app = FastAPI(title="Telegram Bot API emulator", docs_url=None, redoc_url=None)
    app.state.emulator = state
    app.include_router(BotAPI(state).router)
    app.include_router(client_router(state))

    @app.get("/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(STATIC / "chat.html", headers={"Cache-Control": "no-store"})

    return app
