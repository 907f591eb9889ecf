"""Rasa's replies as Telegram messages: merged, split under Telegram's limit, buttons attached."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

TELEGRAM_LIMIT = 4096
#: Splitting below the limit leaves room for what entities expand to once Telegram parses them.
CHUNK_LIMIT = 3900
_TAG = re.compile(r"<[^>]+>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
#: Intents of the 👍 / 👎 buttons under an answer (nlu/domain/domain.yml, actions/feedback.py).
RATE_UP_INTENT = "rate_answer_up"
RATE_DOWN_INTENT = "rate_answer_down"


@dataclass(slots=True)
class Outgoing:
    html: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, Rasa payload)


def visible_length(html: str) -> int:
    return len(_ENTITY.sub("x", _TAG.sub("", html)))


def split_html(html: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """Chunks of at most `limit` visible characters, cut between paragraphs, lines or words.

    Replies keep every tag within one line, so cutting at line breaks never splits a tag pair.
    """
    if visible_length(html) <= limit:
        return [html]
    for separator in ("\n\n", "\n", " "):
        pieces = html.split(separator)
        if len(pieces) > 1:
            break
    else:
        return [html[i:i + limit] for i in range(0, len(html), limit)]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if visible_length(piece) > limit:
            chunks.extend(split_html(piece, limit))
            current = ""
        else:
            current = piece
    if current:
        chunks.append(current)
    return chunks


def answer_token(article_id: str) -> str:
    """Eight hex characters naming an article in a button: article ids can be too long for
    Telegram's 64 bytes of callback data. actions/feedback.py matches it back."""
    return hashlib.sha1(article_id.encode()).hexdigest()[:8]


def rated_article(meta: dict[str, Any]) -> str | None:
    """The article of a knowledge-base answer that residents may rate, from an action's meta;
    None for emergencies, topic choices, "no answer", handoff offers and small talk."""
    articles = meta.get("articles") or []
    if (len(articles) != 1 or meta.get("emergency") or meta.get("unsure")
            or meta.get("unanswered")):
        return None
    return str(articles[0])


def rating_buttons(article_id: str) -> list[tuple[str, str]]:
    token = answer_token(article_id)
    return [("👍", f'/{RATE_UP_INTENT}{{"answer":"{token}"}}'),
            ("👎", f'/{RATE_DOWN_INTENT}{{"answer":"{token}"}}')]


def to_outgoing(messages: list[dict[str, Any]], meta: dict[str, Any] | None = None,
                ) -> list[Outgoing]:
    """Rasa splits texts at blank lines; consecutive texts are one reply, buttons close it.

    `meta` is the turn's meta (bot.rasa_client.collect_meta, which takes it out of `messages`):
    when the turn answered from an article, its 👍 / 👎 go under the last reply.
    """
    replies: list[Outgoing] = []
    pending: list[str] = []
    for message in messages:
        text = (message.get("text") or "").strip()
        if text:
            pending.append(text)
        buttons = [(str(b.get("title", "")), str(b.get("payload", "")))
                   for b in message.get("buttons") or []]
        if buttons:
            body = "\n\n".join(pending) or "…"
            chunks = split_html(body)
            replies.extend(Outgoing(chunk) for chunk in chunks[:-1])
            replies.append(Outgoing(chunks[-1], buttons))
            pending = []
    if pending:
        replies.extend(Outgoing(chunk) for chunk in split_html("\n\n".join(pending)))
    article_id = rated_article(meta or {})
    if article_id is not None and replies:
        replies[-1].buttons.extend(rating_buttons(article_id))
    return replies
