"""The resident's Telegram client, as HTTP: the chat page, `make ask` and the tests use it."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from emulator.state import EmulatorState


def _attachment(kind: str, caption: str | None) -> dict[str, Any]:
    """What each non-text message kind carries; file IDs are opaque strings to the bot anyway."""
    file = {"file_id": f"emu-{kind}-{secrets.token_hex(6)}",
            "file_unique_id": secrets.token_hex(4)}
    content: dict[str, Any] = {
        "sticker": {"sticker": {**file, "type": "regular", "width": 512, "height": 512,
                                "is_animated": False, "is_video": False, "emoji": "👍"}},
        "photo": {"photo": [{**file, "width": 320, "height": 240, "file_size": 20480}]},
        "voice": {"voice": {**file, "duration": 3, "mime_type": "audio/ogg"}},
        "video": {"video": {**file, "width": 640, "height": 360, "duration": 5}},
        "document": {"document": {**file, "file_name": "document.pdf",
                                  "mime_type": "application/pdf"}},
        "location": {"location": {"latitude": 34.7108, "longitude": 137.7261}},
        "contact": {"contact": {"phone_number": "+81000000000", "first_name": "Friend"}},
    }[kind]
    if caption and kind in {"photo", "video", "document", "voice"}:
        content["caption"] = caption
    return content


class Send(BaseModel):
    kind: Literal["text", "sticker", "photo", "voice", "video", "document", "location",
                  "contact"] = "text"
    text: str | None = None
    language_code: str | None = Field(default=None, max_length=16)
    first_name: str = "Resident"


class Edit(BaseModel):
    message_id: int
    text: str


class Press(BaseModel):
    message_id: int
    data: str


def client_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/chats/{chat_id}/send")
    async def send(chat_id: int, body: Send) -> dict[str, Any]:
        chat = state.chat(chat_id, body.language_code, body.first_name)
        if body.kind == "text":
            if body.text is None:
                raise HTTPException(422, "text is required")
            update = await state.resident_text(chat, body.text)
        else:
            update = await state.resident_message(chat, _attachment(body.kind, body.text))
        return {"update_id": update["update_id"], "message_id": update["message"]["message_id"]}

    @router.post("/chats/{chat_id}/edit")
    async def edit(chat_id: int, body: Edit) -> dict[str, Any]:
        chat = state.chat(chat_id)
        if body.message_id not in chat.messages:
            raise HTTPException(404, "no such message")
        update = await state.resident_edit(chat, body.message_id, body.text)
        return {"update_id": update["update_id"]}

    @router.post("/chats/{chat_id}/press")
    async def press(chat_id: int, body: Press) -> dict[str, Any]:
        chat = state.chat(chat_id)
        if body.message_id not in chat.messages:
            raise HTTPException(404, "no such message")
        update = await state.resident_presses(chat, body.message_id, body.data)
        return {"update_id": update["update_id"]}

    @router.get("/chats/{chat_id}/events")
    async def events(chat_id: int, after: int = 0, timeout: float = 0) -> list[dict[str, Any]]:
        chat = state.chat(chat_id)
        return [asdict(e) for e in await state.events_after(chat, after, min(timeout, 30))]

    return router
