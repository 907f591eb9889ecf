"""The people's Telegram clients, as HTTP: the chat page, `make ask` and the tests use it.

Residents write to the bot in private chats (/api/chats); counselors write in the topics of a
staff supergroup (/api/groups), which tests set up and staff the way an owner would.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from emulator.state import Chat, EmulatorState, Topic

Kind = Literal["text", "sticker", "photo", "voice", "video", "document", "location", "contact"]


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


def _content(kind: str, text: str | None) -> dict[str, Any]:
    if kind != "text":
        return _attachment(kind, text)
    if text is None:
        raise HTTPException(422, "text is required")
    return EmulatorState.text_content(text)


class Send(BaseModel):
    kind: Kind = "text"
    text: str | None = None
    language_code: str | None = Field(default=None, max_length=16)
    first_name: str = "Resident"


class Edit(BaseModel):
    message_id: int
    text: str


class Press(BaseModel):
    message_id: int
    data: str


class Group(BaseModel):
    title: str = Field(min_length=1, max_length=128)
    is_forum: bool = True


class SetMember(BaseModel):
    user_id: int = Field(gt=0)
    status: Literal["creator", "administrator", "member", "left", "kicked"] = "member"
    first_name: str = "Counselor"
    can_manage_topics: bool = False


class GroupSend(BaseModel):
    from_id: int
    kind: Kind = "text"
    text: str | None = None
    message_thread_id: int | None = None
    reply_to_message_id: int | None = None


def _topic_of(chat: Chat, body: GroupSend) -> tuple[Topic | None, dict[str, Any] | None]:
    """The topic a member writes in and the message answered, which also names the topic."""
    replied = None
    if body.reply_to_message_id is not None:
        replied = chat.messages.get(body.reply_to_message_id)
        if replied is None:
            raise HTTPException(404, "no such message")
    thread_id = body.message_thread_id or (replied or {}).get("message_thread_id")
    if thread_id is None:
        return None, replied
    if not chat.is_forum:
        raise HTTPException(400, "the chat is not a forum")
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise HTTPException(404, "message thread not found")
    if replied is not None and replied.get("message_thread_id") != thread_id:
        raise HTTPException(400, "the message answered is in another topic")
    return topic, replied


def client_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(prefix="/api")

    def private_chat(chat_id: int, language_code: str | None = None,
                     first_name: str = "Resident") -> Chat:
        existing = state.chats.get(chat_id)
        if existing is not None and existing.type != "private":
            raise HTTPException(409, "a group: members write through /api/groups")
        return state.chat(chat_id, language_code, first_name)

    def group_chat(chat_id: int) -> Chat:
        chat = state.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise HTTPException(404, "no such group")
        return chat

    @router.post("/chats/{chat_id}/send")
    async def send(chat_id: int, body: Send) -> dict[str, Any]:
        chat = private_chat(chat_id, body.language_code, body.first_name)
        update = await state.resident_message(chat, _content(body.kind, body.text))
        return {"update_id": update["update_id"], "message_id": update["message"]["message_id"]}

    @router.post("/chats/{chat_id}/edit")
    async def edit(chat_id: int, body: Edit) -> dict[str, Any]:
        chat = private_chat(chat_id)
        if body.message_id not in chat.messages:
            raise HTTPException(404, "no such message")
        update = await state.resident_edit(chat, body.message_id, body.text)
        return {"update_id": update["update_id"]}

    @router.post("/chats/{chat_id}/press")
    async def press(chat_id: int, body: Press) -> dict[str, Any]:
        chat = private_chat(chat_id)
        if body.message_id not in chat.messages:
            raise HTTPException(404, "no such message")
        update = await state.resident_presses(chat, body.message_id, body.data)
        return {"update_id": update["update_id"]}

    @router.get("/chats/{chat_id}/events")
    async def events(chat_id: int, after: int = 0, timeout: float = 0) -> list[dict[str, Any]]:
        chat = state.chat(chat_id)
        return [asdict(e) for e in await state.events_after(chat, after, min(timeout, 30))]

    # -- the staff group ----------------------------------------------------------------------

    @router.post("/groups/{chat_id}")
    async def create_group(chat_id: int, body: Group) -> dict[str, Any]:
        """Creates (or renames) a supergroup with the bot in it as a topic-managing admin."""
        if chat_id in state.chats and state.chats[chat_id].type == "private":
            raise HTTPException(409, "a private chat has that id")
        chat = state.group(chat_id, body.title, body.is_forum)
        return {**state.chat_object(chat),
                "members": [asdict(m) for m in chat.members.values()]}

    @router.post("/groups/{chat_id}/members")
    async def set_member(chat_id: int, body: SetMember) -> dict[str, Any]:
        """Adds, promotes, demotes or removes a member: the bot too, by its own id."""
        member = state.set_member(group_chat(chat_id), body.user_id, body.status,
                                  body.first_name, body.can_manage_topics)
        return asdict(member)

    @router.post("/groups/{chat_id}/send")
    async def group_send(chat_id: int, body: GroupSend) -> dict[str, Any]:
        """A member writes in the group: in a topic given by id or by the message answered."""
        chat = group_chat(chat_id)
        if body.from_id == state.bot_user["id"]:
            raise HTTPException(400, "the bot writes through the Bot API")
        if not state.is_present(chat, body.from_id):
            raise HTTPException(403, "not a member of the group")
        topic, replied = _topic_of(chat, body)
        # As in Telegram's apps: a closed topic takes messages only from those who manage them.
        if topic is not None and topic.is_closed and not state.can_manage_topics(chat,
                                                                                body.from_id):
            raise HTTPException(403, "TOPIC_CLOSED")
        content = _content(body.kind, body.text)
        if topic is not None:
            content = {**state.topic_fields(chat, topic, replied), **content}
        elif replied is not None:
            content = {"reply_to_message": state.as_reply(replied), **content}
        sender = dict(chat.members[body.from_id].user)
        message = state.new_message(chat, sender, content)
        update = await state.group_message(chat, message)
        return {"update_id": update["update_id"] if update else None,
                "message_id": message["message_id"],
                "message_thread_id": message.get("message_thread_id")}

    @router.get("/groups/{chat_id}/topics")
    async def topics(chat_id: int) -> list[dict[str, Any]]:
        return [asdict(t) for t in group_chat(chat_id).topics.values()]

    @router.get("/groups/{chat_id}/topics/{thread_id}/messages")
    async def topic_messages(chat_id: int, thread_id: int) -> list[dict[str, Any]]:
        chat = group_chat(chat_id)
        if thread_id not in chat.topics:
            raise HTTPException(404, "message thread not found")
        return state.topic_messages(chat, thread_id)

    return router
