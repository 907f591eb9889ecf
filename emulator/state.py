"""What the emulated Telegram server knows: the bot, its chats, messages and pending updates."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatEvent:
    """Something a client shows: a message either way, an edit, a toast, typing, a topic gone."""

    seq: int
    kind: str  # "message" | "edit" | "toast" | "action" | "delete"
    direction: str  # "in" (a person → bot) | "out" (bot → people)
    payload: dict[str, Any]


@dataclass
class Member:
    """Someone's place in a group, as far as getChatMember shows it."""

    user: dict[str, Any]
    status: str  # "creator" | "administrator" | "member" | "left" | "kicked"
    # The one administrator right the emulator tells apart: Telegram grants it separately,
    # and without it a bot can neither create topics nor write in closed ones.
    can_manage_topics: bool = False


@dataclass
class Topic:
    """A forum topic; Telegram names it by the id of the service message that opened it."""

    message_thread_id: int
    name: str
    icon_color: int
    creator_id: int
    icon_custom_emoji_id: str | None = None
    is_closed: bool = False


@dataclass
class Chat:
    id: int
    user: dict[str, Any]  # the resident of a private chat; empty for a group
    events: list[ChatEvent] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    type: str = "private"  # "private" | "supergroup"
    title: str | None = None
    is_forum: bool = False
    members: dict[int, Member] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    #: The resident blocked the bot: Telegram then refuses everything sent to them with 403.
    blocked: bool = False


@dataclass
class RateLimits:
    """Telegram's flood limits on the messages a bot sends, counted over the last second.

    Telegram documents about 30 messages per second per bot and about one per second per chat;
    beyond them it answers 429 with `retry_after`. Off unless an emulator is given limits, so
    that ordinary tests (a reply and its buttons in quick succession) are unaffected.
    """

    per_bot: int | None = 30
    per_chat: int | None = 1
    window_s: float = 1.0
    sent: deque[float] = field(default_factory=deque)
    sent_per_chat: dict[int, deque[float]] = field(default_factory=dict)
    #: How many requests were refused with 429 (benchmarks report it).
    refused: int = 0

    def retry_after(self, chat_id: int, now: float) -> int | None:
        """Whole seconds to wait (Telegram never says less than 1), or None to let it through;
        a message let through is counted."""
        chat_sent = self.sent_per_chat.setdefault(chat_id, deque())
        waits = [self._wait(queue, limit, now) for queue, limit in
                 ((self.sent, self.per_bot), (chat_sent, self.per_chat))]
        wait = max(waits)
        if wait > 0:
            self.refused += 1
            return max(1, math.ceil(wait))
        self.sent.append(now)
        chat_sent.append(now)
        return None

    def _wait(self, queue: deque[float], limit: int | None, now: float) -> float:
        while queue and queue[0] <= now - self.window_s:
            queue.popleft()
        if limit is None or len(queue) < limit:
            return 0.0
        return queue[len(queue) - limit] + self.window_s - now


#: The colour Telegram gives a topic created without one (the blue of its own apps).
DEFAULT_TOPIC_COLOR = 0x6FB9F0
#: Statuses of people who are in a group, as opposed to "left" and "kicked".
PRESENT = {"creator", "administrator", "member"}


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
        #: Flood limits on the bot's messages; None: unlimited (see RateLimits).
        self.limits: RateLimits | None = None

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
        if chat.type == "private":
            return {"id": chat.id, "type": "private", "first_name": chat.user["first_name"]}
        group = {"id": chat.id, "title": chat.title, "type": chat.type}
        if chat.is_forum:
            group["is_forum"] = True
        return group

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

    def new_message(self, chat: Chat, sender: dict[str, Any],
                    content: dict[str, Any]) -> dict[str, Any]:
        return {"message_id": next(chat.message_ids), "date": int(time.time()),
                "chat": self.chat_object(chat), "from": sender, **content}

    async def keep(self, chat: Chat, message: dict[str, Any], direction: str) -> dict[str, Any]:
        chat.messages[message["message_id"]] = message
        await self.record(chat, "message", direction, message)
        return message

    async def resident_message(self, chat: Chat, content: dict[str, Any]) -> dict[str, Any]:
        """A message the resident sends: text, sticker, photo, voice, location, document…"""
        message = await self.keep(chat, self.new_message(chat, dict(chat.user), content), "in")
        return await self.push_update({"message": message})

    @staticmethod
    def text_content(text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command.encode("utf-16-le")) // 2}]
        return content

    async def resident_text(self, chat: Chat, text: str) -> dict[str, Any]:
        return await self.resident_message(chat, self.text_content(text))

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

    # -- the staff group --------------------------------------------------------------------

    def group(self, chat_id: int, title: str, is_forum: bool = True) -> Chat:
        """A supergroup the bot was added to as an administrator allowed to manage topics."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(chat_id, {}, type="supergroup")
            chat.members[self.bot_user["id"]] = Member(self.bot_user, "administrator", True)
        chat.title, chat.is_forum = title, is_forum
        return chat

    def set_member(self, chat: Chat, user_id: int, status: str, first_name: str = "Counselor",
                   can_manage_topics: bool = False) -> Member:
        """Adds, promotes, demotes or removes someone, the bot included."""
        user = self.bot_user if user_id == self.bot_user["id"] else \
            {"id": user_id, "is_bot": False, "first_name": first_name}
        member = chat.members[user_id] = Member(user, status, can_manage_topics)
        return member

    @staticmethod
    def is_present(chat: Chat, user_id: int) -> bool:
        member = chat.members.get(user_id)
        return member is not None and member.status in PRESENT

    @staticmethod
    def can_manage_topics(chat: Chat, user_id: int) -> bool:
        member = chat.members.get(user_id)
        return member is not None and (member.status == "creator" or (
            member.status == "administrator" and member.can_manage_topics))

    def known_user(self, user_id: int) -> dict[str, Any] | None:
        """Someone this Telegram has seen: the bot, a resident or a member of some group."""
        if user_id == self.bot_user["id"]:
            return self.bot_user
        chat = self.chats.get(user_id)
        if chat is not None and chat.type == "private":
            return chat.user
        return next((c.members[user_id].user for c in self.chats.values()
                     if user_id in c.members), None)

    @staticmethod
    def as_reply(message: dict[str, Any]) -> dict[str, Any]:
        """A message as reply_to_message shows it: Telegram nests replies one level deep only."""
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    def topic_fields(self, chat: Chat, topic: Topic,
                     reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """What every message inside a topic carries. Telegram fills reply_to_message with the
        topic's creation message unless the sender answered another message of the topic."""
        replied = reply_to or chat.messages[topic.message_thread_id]
        return {"message_thread_id": topic.message_thread_id, "is_topic_message": True,
                "reply_to_message": self.as_reply(replied)}

    def bot_sees(self, chat: Chat, message: dict[str, Any]) -> bool:
        """Privacy mode is on (can_read_all_group_messages is false): an administrator bot gets
        every message, a bot that is a plain member only commands."""
        member = chat.members.get(self.bot_user["id"])
        if member is None or member.status not in PRESENT:
            return False
        return member.status != "member" or str(message.get("text", "")).startswith("/")

    async def group_message(self, chat: Chat, message: dict[str, Any]) -> dict[str, Any] | None:
        """Keeps a group message; a member's reaches the bot as an update if the bot sees it."""
        from_bot = message["from"]["id"] == self.bot_user["id"]
        await self.keep(chat, message, "out" if from_bot else "in")
        if from_bot or not self.bot_sees(chat, message):
            return None
        return await self.push_update({"message": message})

    async def create_topic(self, chat: Chat, sender: dict[str, Any], name: str, icon_color: int,
                           icon_custom_emoji_id: str | None = None) -> Topic:
        """Opens a topic with its forum_topic_created service message, whose id becomes the
        topic's message_thread_id."""
        message = self.new_message(chat, sender, {})
        thread_id = message["message_id"]
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        message.update(message_thread_id=thread_id, forum_topic_created=created,
                       is_topic_message=True)
        topic = chat.topics[thread_id] = Topic(thread_id, name, icon_color, sender["id"],
                                               icon_custom_emoji_id)
        await self.group_message(chat, message)
        return topic

    async def topic_service(self, chat: Chat, topic: Topic, sender: dict[str, Any],
                            content: dict[str, Any]) -> dict[str, Any] | None:
        """forum_topic_edited, forum_topic_closed, forum_topic_reopened: posted in the topic."""
        message = self.new_message(chat, sender, {**self.topic_fields(chat, topic), **content})
        return await self.group_message(chat, message)

    async def delete_topic(self, chat: Chat, topic: Topic) -> list[int]:
        """Telegram deletes a topic together with every message in it."""
        gone = [i for i, m in chat.messages.items()
                if m.get("message_thread_id") == topic.message_thread_id]
        for message_id in gone:
            del chat.messages[message_id]
        del chat.topics[topic.message_thread_id]
        await self.record(chat, "delete", "out", {"message_thread_id": topic.message_thread_id,
                                                  "message_ids": gone})
        return gone

    @staticmethod
    def topic_messages(chat: Chat, thread_id: int) -> list[dict[str, Any]]:
        return [m for m in chat.messages.values() if m.get("message_thread_id") == thread_id]

    # -- the bot's side ---------------------------------------------------------------------

    async def bot_message(self, chat: Chat, content: dict[str, Any]) -> dict[str, Any]:
        return await self.keep(chat, self.new_message(chat, self.bot_user, content), "out")

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
