"""Rasa, as the bot sees it: send a resident's message, get the replies and the intent back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential


@dataclass(slots=True)
class RasaReply:
    messages: list[dict[str, Any]]
    intent: str | None = None
    confidence: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def collect_meta(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Splits the actions' `custom.meta` payloads from what the resident should see."""
    shown, meta = [], {}
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and "meta" in custom:
            merged = custom["meta"]
            meta["articles"] = meta.get("articles", []) + [
                a for a in merged.get("articles", []) if a not in meta.get("articles", [])]
            meta.update({k: v for k, v in merged.items() if k != "articles"})
            rest = {k: v for k, v in message.items() if k != "custom"}
            if rest.get("text") or rest.get("buttons"):
                shown.append(rest)
        else:
            shown.append(message)
    return shown, meta


class RasaClient:
    """Rasa's REST channel for messages; its HTTP API (behind the token) for the parsed intent."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self._token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def _post_message(self, sender: str, text: str, metadata: dict[str, Any],
                            ) -> list[dict[str, Any]]:
        # Only connection failures are retried: Rasa never saw those messages, so a retry can't
        # duplicate a reply; a timeout after sending could, and is left to the caller.
        async for attempt in AsyncRetrying(retry=retry_if_exception_type(httpx.ConnectError),
                                           stop=stop_after_attempt(4),
                                           wait=wait_exponential(multiplier=0.5, max=4),
                                           reraise=True):
            with attempt:
                response = await self._http.post(
                    "/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "metadata": metadata})
                response.raise_for_status()
                return list(response.json())
        raise AssertionError("unreachable")

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> RasaReply:
        messages, meta = collect_meta(await self._post_message(sender, text, metadata))
        response = await self._http.get(f"/conversations/{sender}/tracker",
                                        params={"include_events": "NONE", "token": self._token})
        response.raise_for_status()
        intent = (response.json().get("latest_message") or {}).get("intent") or {}
        return RasaReply(messages, intent.get("name"), intent.get("confidence"), meta)

    async def intent(self, text: str) -> str | None:
        """The intent Rasa reads in `text`, without touching any conversation's tracker."""
        response = await self._http.post("/model/parse", params={"token": self._token},
                                         json={"text": text})
        response.raise_for_status()
        return (response.json().get("intent") or {}).get("name")

    async def ready(self) -> bool:
        try:
            response = await self._http.get("/status", params={"token": self._token})
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_id"))
