"""The Bot API methods the bot uses, answered the way Telegram answers them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulator.html_entities import EntityParseError, parse_html
from emulator.state import DEFAULT_TOPIC_COLOR, Chat, EmulatorState, Member, Topic

#: Fields that python-telegram-bot sends JSON-encoded inside a form body.
JSON_FIELDS = {"reply_markup", "entities", "allowed_updates", "link_preview_options",
               "reply_parameters", "caption_entities", "commands", "scope"}
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_TOPIC_NAME = 128
#: What a copy or a forward carries over; a service message has none of it, so can't be copied.
CONTENT_FIELDS = ("text", "entities", "photo", "document", "voice", "video", "sticker",
                  "location", "contact", "caption", "caption_entities")
#: The rights an emulated administrator holds; only can_manage_topics varies (see Member).
ADMIN_RIGHTS = {"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                "can_delete_messages": True, "can_manage_video_chats": True,
                "can_restrict_members": True, "can_promote_members": False,
                "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                "can_edit_stories": False, "can_delete_stories": False, "can_pin_messages": True}


class BotAPIError(Exception):
    def __init__(self, code: int, description: str,
                 parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


async def read_params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        return json.loads(body) if body else {}
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, str) and key in JSON_FIELDS:
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


def _text_and_entities(params: dict[str, Any]) -> dict[str, Any]:
    text = str(params.get("text", ""))
    entities = params.get("entities")
    if params.get("parse_mode", "").upper() == "HTML":
        try:
            text, entities = parse_html(text)
        except EntityParseError as error:
            raise BotAPIError(400, f"Bad Request: {error}") from None
    if not text.strip():
        raise BotAPIError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise BotAPIError(400, "Bad Request: message is too long")
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    markup = params.get("reply_markup")
    if markup:
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise BotAPIError(400, "Bad Request: BUTTON_DATA_INVALID")
        content["reply_markup"] = markup
    return content


def _integer(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _caption(params: dict[str, Any]) -> dict[str, Any]:
    """A new caption for copyMessage; an empty one removes the original's."""
    text = str(params.get("caption") or "")
    entities = params.get("caption_entities")
    if text and params.get("parse_mode", "").upper() == "HTML":
        try:
            text, entities = parse_html(text)
        except EntityParseError as error:
            raise BotAPIError(400, f"Bad Request: {error}") from None
    if len(text) > MAX_CAPTION:
        raise BotAPIError(400, "Bad Request: message caption is too long")
    content: dict[str, Any] = {"caption": text} if text else {}
    if text and entities:
        content["caption_entities"] = entities
    return content


def _topic_name(raw: Any) -> str:
    """Telegram trims a topic's name and cuts it to 128 characters rather than refusing it."""
    name = str(raw or "").strip()[:MAX_TOPIC_NAME]
    if not name:
        raise BotAPIError(400, "Bad Request: title must be non-empty")
    return name


def _icon_color(raw: Any) -> int:
    if raw in (None, ""):
        return DEFAULT_TOPIC_COLOR
    try:
        color = int(raw)
    except (TypeError, ValueError):
        color = -1
    if not 0 <= color <= 0xFFFFFF:
        raise BotAPIError(400, "Bad Request: invalid icon color specified")
    return color


def _forum_topic(topic: Topic) -> dict[str, Any]:
    result: dict[str, Any] = {"message_thread_id": topic.message_thread_id, "name": topic.name,
                              "icon_color": topic.icon_color}
    if topic.icon_custom_emoji_id:
        result["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    return result


def _chat_member(member: Member) -> dict[str, Any]:
    """A ChatMember object: each status has its own set of fields."""
    result: dict[str, Any] = {"status": member.status, "user": member.user}
    if member.status == "creator":
        result["is_anonymous"] = False
    elif member.status == "administrator":
        result.update(ADMIN_RIGHTS, can_manage_topics=member.can_manage_topics)
    elif member.status == "kicked":
        result["until_date"] = 0
    return result


class BotAPI:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self.get_me, "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook, "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info, "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action, "setMyCommands": self.accept,
            "deleteMyCommands": self.accept, "close": self.accept, "logOut": self.accept,
            "copyMessage": self.copy_message, "forwardMessage": self.forward_message,
            "getChat": self.get_chat, "getChatMember": self.get_chat_member,
            "createForumTopic": self.create_forum_topic, "editForumTopic": self.edit_forum_topic,
            "closeForumTopic": self.close_forum_topic,
            "reopenForumTopic": self.reopen_forum_topic,
            "deleteForumTopic": self.delete_forum_topic,
        }
        self.router = APIRouter()
        self.router.add_api_route("/bot{token}/{method}", self.dispatch, methods=["GET", "POST"])
        self._delivery: asyncio.Task[None] | None = None

    async def dispatch(self, token: str, method: str, request: Request) -> JSONResponse:
        if token != self.state.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                status_code=401)
        handler = next((h for name, h in self.methods.items() if name.lower() == method.lower()),
                       None)
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404,
                                 "description": "Not Found: method not found"}, status_code=404)
        try:
            return ok(await handler(await read_params(request)))
        except BotAPIError as error:
            body: dict[str, Any] = {"ok": False, "error_code": error.code,
                                    "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            return JSONResponse(body, status_code=error.code)

    @property
    def _bot_id(self) -> int:
        return self.state.bot_user["id"]

    def _known_chat(self, chat_id: Any) -> Chat:
        try:
            return self.state.chats[int(chat_id)]
        except (KeyError, TypeError, ValueError):
            raise BotAPIError(400, "Bad Request: chat not found") from None

    def _chat(self, params: dict[str, Any], reach: bool = True) -> Chat:
        """The chat a method acts in; a group only while the bot is still in it. `reach`: the
        method writes to the person, which a resident who blocked the bot refuses."""
        chat = self._known_chat(params.get("chat_id"))
        if reach and chat.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        if chat.type != "private" and not self.state.is_present(chat, self._bot_id):
            member = chat.members.get(self._bot_id)
            if member is not None and member.status == "kicked":
                raise BotAPIError(403, "Forbidden: bot was kicked from the supergroup chat")
            raise BotAPIError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _forum(self, params: dict[str, Any]) -> Chat:
        chat = self._chat(params)
        if not chat.is_forum:
            raise BotAPIError(400, "Bad Request: the chat is not a forum")
        return chat

    def _topic(self, chat: Chat, params: dict[str, Any]) -> Topic:
        """The topic a forum method names. Telegram's servers, not the Bot API, reject an
        unknown one, hence an error in their own style rather than "message thread not found"."""
        thread_id = _integer(params.get("message_thread_id"))
        if thread_id <= 0:
            raise BotAPIError(400, "Bad Request: invalid message thread identifier specified")
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise BotAPIError(400, "Bad Request: TOPIC_ID_INVALID")
        return topic

    def _thread(self, chat: Chat, params: dict[str, Any]) -> dict[str, Any]:
        """The topic fields of a message the bot sends with message_thread_id (none: General)."""
        thread_id = _integer(params.get("message_thread_id"))
        if not thread_id:
            return {}
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise BotAPIError(400, "Bad Request: message thread not found")
        # Closing a topic silences its members; administrators who manage topics still write.
        if topic.is_closed and not self.state.can_manage_topics(chat, self._bot_id):
            raise BotAPIError(400, "Bad Request: TOPIC_CLOSED")
        return self.state.topic_fields(chat, topic)

    def _may_manage(self, chat: Chat, topic: Topic, error: str) -> None:
        """Editing, closing and reopening need can_manage_topics, unless the bot opened it."""
        if topic.creator_id != self._bot_id and not self.state.can_manage_topics(chat,
                                                                                 self._bot_id):
            raise BotAPIError(400, f"Bad Request: {error}")

    def _source(self, params: dict[str, Any], verb: str,
                participle: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The message copyMessage or forwardMessage takes, and the content it carries."""
        chat = self._known_chat(params.get("from_chat_id"))
        message = chat.messages.get(_integer(params.get("message_id")))
        if message is None:
            raise BotAPIError(400, f"Bad Request: message to {verb} not found")
        content = {key: message[key] for key in CONTENT_FIELDS if key in message}
        if not content:
            raise BotAPIError(400, f"Bad Request: message can't be {participle}")
        return message, content

    def _flood_control(self, chat: Chat) -> None:
        """Counts a message against Telegram's limits, or refuses it as Telegram does."""
        limits = self.state.limits
        if limits is None:
            return
        wait = limits.retry_after(chat.id, time.monotonic())
        if wait is not None:
            raise BotAPIError(429, f"Too Many Requests: retry after {wait}",
                              {"retry_after": wait})

    async def accept(self, params: dict[str, Any]) -> bool:
        return True

    async def get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.state.bot_user

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.state.webhook:
            raise BotAPIError(409, "Conflict: can't use getUpdates method while webhook is active")
        return await self.state.wait_updates(int(params.get("offset", 0) or 0),
                                             int(params.get("limit", 100) or 100),
                                             float(params.get("timeout", 0) or 0))

    async def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        thread = self._thread(chat, params)
        content = _text_and_entities(params)
        self._flood_control(chat)
        return await self.state.bot_message(chat, {**thread, **content})

    async def copy_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        _, content = self._source(params, "copy", "copied")
        thread = self._thread(chat, params)
        if "caption" in params and "text" not in content:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(_caption(params))
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        self._flood_control(chat)
        message = await self.state.bot_message(chat, {**thread, **content})
        return {"message_id": message["message_id"]}

    async def forward_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        source, content = self._source(params, "forward", "forwarded")
        thread = self._thread(chat, params)
        # A forward of a forward still names the first sender.
        origin = source.get("forward_origin") or {"type": "user", "sender_user": source["from"],
                                                  "date": source["date"]}
        self._flood_control(chat)
        return await self.state.bot_message(chat, {**thread, "forward_origin": origin,
                                                   **content})

    async def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        message = chat.messages.get(int(params.get("message_id", 0)))
        if message is None or message["from"]["id"] != self.state.bot_user["id"]:
            raise BotAPIError(400, "Bad Request: message to edit not found")
        content = _text_and_entities(params)
        message.pop("entities", None)
        message.pop("reply_markup", None)
        message.update(content)
        await self.state.record(chat, "edit", "out", dict(message))
        return message

    async def answer_callback_query(self, params: dict[str, Any]) -> bool:
        chat = self.state.callback_chats.pop(str(params.get("callback_query_id")), None)
        if chat is None:
            raise BotAPIError(400, "Bad Request: query is too old and response timeout expired "
                                   "or query ID is invalid")
        if params.get("text"):
            await self.state.record(chat, "toast", "out", {"text": params["text"]})
        return True

    async def send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        action: dict[str, Any] = {"action": params.get("action", "typing")}
        if thread := self._thread(chat, params):
            action["message_thread_id"] = thread["message_thread_id"]
        await self.state.record(chat, "action", "out", action)
        return True

    # -- chats, members and forum topics ---------------------------------------------------

    async def get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        """A ChatFullInfo: the chat's fields and the few that ChatFullInfo requires besides."""
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)
        return {**self.state.chat_object(self._chat(params, reach=False)), "accent_color_id": 0,
                "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params, reach=False)
        user_id = _integer(params.get("user_id"))
        if user_id <= 0:
            raise BotAPIError(400, "Bad Request: invalid user_id specified")
        member = chat.members.get(user_id)
        if member is None and chat.type == "private" and user_id in (chat.id, self._bot_id):
            member = Member(self.state.bot_user if user_id == self._bot_id else chat.user,
                            "member")
        if member is None:
            # Anyone Telegram knows is simply not in the chat; an unknown id is an error.
            user = self.state.known_user(user_id)
            if user is None:
                raise BotAPIError(400, "Bad Request: user not found")
            member = Member(user, "left")
        return _chat_member(member)

    async def create_forum_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._forum(params)
        if not self.state.can_manage_topics(chat, self._bot_id):
            raise BotAPIError(400, "Bad Request: not enough rights to create a topic")
        name = _topic_name(params.get("name"))
        topic = await self.state.create_topic(chat, self.state.bot_user, name,
                                              _icon_color(params.get("icon_color")),
                                              params.get("icon_custom_emoji_id") or None)
        return _forum_topic(topic)

    async def edit_forum_topic(self, params: dict[str, Any]) -> bool:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        self._may_manage(chat, topic, "not enough rights to edit the topic")
        edit_name, edit_icon = bool(params.get("name")), "icon_custom_emoji_id" in params
        if not edit_name and not edit_icon:
            return True  # nothing asked, nothing done, as Telegram answers
        edited: dict[str, Any] = {}
        if edit_name and (name := _topic_name(params["name"])) != topic.name:
            edited["name"] = topic.name = name
        emoji = str(params.get("icon_custom_emoji_id") or "")
        if edit_icon and emoji != (topic.icon_custom_emoji_id or ""):
            edited["icon_custom_emoji_id"] = emoji
            topic.icon_custom_emoji_id = emoji or None
        if not edited:
            raise BotAPIError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        await self.state.topic_service(chat, topic, self.state.bot_user,
                                       {"forum_topic_edited": edited})
        return True

    async def close_forum_topic(self, params: dict[str, Any]) -> bool:
        return await self._set_closed(params, True)

    async def reopen_forum_topic(self, params: dict[str, Any]) -> bool:
        return await self._set_closed(params, False)

    async def _set_closed(self, params: dict[str, Any], closed: bool) -> bool:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        self._may_manage(chat, topic, "not enough rights to close or open the topic")
        if topic.is_closed == closed:
            raise BotAPIError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.is_closed = closed
        service = "forum_topic_closed" if closed else "forum_topic_reopened"
        await self.state.topic_service(chat, topic, self.state.bot_user, {service: {}})
        return True

    async def delete_forum_topic(self, params: dict[str, Any]) -> bool:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        # Deleting needs can_delete_messages, which every emulated administrator holds.
        bot = chat.members[self._bot_id]
        if topic.creator_id != self._bot_id and bot.status not in ("creator", "administrator"):
            raise BotAPIError(400, "Bad Request: not enough rights to delete the topic")
        await self.state.delete_topic(chat, topic)
        return True

    # -- webhook ---------------------------------------------------------------------------

    async def set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or None
        self.state.webhook = {"url": url, "secret_token": params.get("secret_token")} if url \
            else None
        if url and params.get("drop_pending_updates") in (True, "true", "True"):
            self.state.updates.clear()
        if url and self._delivery is None:
            self._delivery = asyncio.create_task(self._deliver())
        return True

    async def delete_webhook(self, params: dict[str, Any]) -> bool:
        self.state.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self.state.updates.clear()
        return True

    async def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.state.webhook or {}
        return {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.state.updates)}

    async def _deliver(self) -> None:
        """Pushes updates to the webhook one by one, in order, retrying until acknowledged."""
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                hook = self.state.webhook
                if hook is None:
                    await asyncio.sleep(0.2)
                    continue
                async with self.state.updates_changed:
                    if not self.state.updates:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.state.updates_changed.wait(), 1)
                        continue
                    update = self.state.updates[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} \
                    if hook.get("secret_token") else {}
                try:
                    response = await client.post(hook["url"], json=update, headers=headers)
                    delivered = response.status_code == 200
                except httpx.HTTPError:
                    delivered = False
                if delivered:
                    async with self.state.updates_changed:
                        if self.state.updates and self.state.updates[0] is update:
                            self.state.updates.pop(0)
                else:
                    await asyncio.sleep(1)
