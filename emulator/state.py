"""What the emulated Telegram server knows: the bot, its chats, messages and pending updates."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatEvent:
    """Something the resident's client shows: a message either way, an edit, a toast, typing."""

    seq: int
    kind: str  # "message" | "edit" | "toast" | "action"
    direction: str  # "in" (resident → bot) | "out" (bot → resident)
    payload: dict[str, Any]


@dataclass
class Chat:
    id: int
    user: dict[str, Any]
    events: list[ChatEvent] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))


class EmulatorState:
    def __init__(self, token: str, username: str = "HamamatsuHelpDeskBot") -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.bot_user = {"id": bot_id, "is_bot": True, "first_name": "Hamamatsu Help Desk",
                         "username": username, "can_join_groups": False,
                         "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.chats: dict[int, Chat] = {}
        self.updates: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.seqs = itertools.count(1)
        self.updates_changed = asyncio.Condition()
        self.webhook: dict[str, Any] | None = None
        self.callback_ids = itertools.count(1)
        self.callback_chats: dict[str, Chat] = {}

    # -- the resident's side ----------------------------------------------------------------

    def chat(self, chat_id: int, language_code: str | None = None,
             first_name: str = "Resident") -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            user = {"id": chat_id, "is_bot": False, "first_name": first_name}
            chat = self.chats[chat_id] = Chat(chat_id, user)
        if language_code:
            chat.user["language_code"] = language_code
        return chat

    @staticmethod
    def chat_object(chat: Chat) -> dict[str, Any]:
        return {"id": chat.id, "type": "private", "first_name": chat.user["first_name"]}

    async def record(self, chat: Chat, kind: str, direction: str, payload: dict[str, Any]) -> int:
        seq = next(self.seqs)
        async with chat.changed:
            chat.events.append(ChatEvent(seq, kind, direction, payload))
            chat.changed.notify_all()
        return seq

    async def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self.update_ids), **update}
        async with self.updates_changed:
            self.updates.append(update)
            self.updates_changed.notify_all()
        return update

    async def resident_message(self, chat: Chat, content: dict[str, Any]) -> dict[str, Any]:
        """A message the resident sends: text, sticker, photo, voice, location, document…"""
        message = {"message_id": next(chat.message_ids), "date": int(time.time()),
                   "chat": self.chat_object(chat), "from": dict(chat.user), **content}
        chat.messages[message["message_id"]] = message
        await self.record(chat, "message", "in", message)
        return await self.push_update({"message": message})

    async def resident_text(self, chat: Chat, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command.encode("utf-16-le")) // 2}]
        return await self.resident_message(chat, content)

    async def resident_edit(self, chat: Chat, message_id: int, text: str) -> dict[str, Any]:
        message = chat.messages[message_id]
        message.update(text=text, edit_date=int(time.time()))
        await self.record(chat, "edit", "in", dict(message))
        return await self.push_update({"edited_message": dict(message)})

    async def resident_presses(self, chat: Chat, message_id: int, data: str) -> dict[str, Any]:
        query = {"id": str(next(self.callback_ids)), "from": dict(chat.user),
                 "chat_instance": str(chat.id), "message": chat.messages[message_id],
                 "data": data}
        self.callback_chats[query["id"]] = chat
        return await self.push_update({"callback_query": query})

    async def wait_updates(self, offset: int, limit: int, timeout: float) -> list[dict[str, Any]]:
        """getUpdates: confirm everything before `offset`, then wait for what is newer."""
        deadline = time.monotonic() + timeout
        async with self.updates_changed:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and (left := deadline - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(self.updates_changed.wait(), left)
                except TimeoutError:
                    break
            return self.updates[:limit]

    # -- the bot's side ---------------------------------------------------------------------

    async def bot_message(self, chat: Chat, content: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": next(chat.message_ids), "date": int(time.time()),
                   "chat": self.chat_object(chat), "from": self.bot_user, **content}
        chat.messages[message["message_id"]] = message
        await self.record(chat, "message", "out", message)
        return message

    async def events_after(self, chat: Chat, after: int, timeout: float) -> list[ChatEvent]:
        deadline = time.monotonic() + timeout
        async with chat.changed:
            while True:
                news = [e for e in chat.events if e.seq > after]
                left = deadline - time.monotonic()
                if news or left <= 0:
                    return news
                try:
                    await asyncio.wait_for(chat.changed.wait(), left)
                except TimeoutError:
                    return [e for e in chat.events if e.seq > after]
