"""The Bot API methods the bot uses, answered the way Telegram answers them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulator.html_entities import EntityParseError, parse_html
from emulator.state import EmulatorState

#: Fields that python-telegram-bot sends JSON-encoded inside a form body.
JSON_FIELDS = {"reply_markup", "entities", "allowed_updates", "link_preview_options",
               "reply_parameters", "caption_entities", "commands", "scope"}
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64


class BotAPIError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


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
            return JSONResponse({"ok": False, "error_code": error.code,
                                 "description": error.description}, status_code=error.code)

    def _chat(self, params: dict[str, Any]):
        try:
            return self.state.chats[int(params["chat_id"])]
        except (KeyError, ValueError):
            raise BotAPIError(400, "Bad Request: chat not found") from None

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
        return await self.state.bot_message(chat, _text_and_entities(params))

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
        await self.state.record(self._chat(params), "action", "out",
                                {"action": params.get("action", "typing")})
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
