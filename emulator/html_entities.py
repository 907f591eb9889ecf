"""Telegram's HTML parse mode: turns marked-up text into plain text and message entities.

Telegram rejects a message whose markup it cannot parse; the emulator does the same, so a bot that
sends broken HTML fails here as it would in production.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote",
}


class EntityParseError(ValueError):
    pass


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.position = 0
        self.open: list[tuple[str, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a":
            url = attributes.get("href")
            if not url:
                raise EntityParseError("Can't parse entities: <a> needs an href")
            entity: dict[str, Any] = {"type": "text_link", "url": url}
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag in SIMPLE_TAGS:
            entity = {"type": SIMPLE_TAGS[tag]}
        else:
            raise EntityParseError(f'Can\'t parse entities: unsupported start tag "{tag}"')
        entity["offset"] = self.position
        self.open.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise EntityParseError(f'Can\'t parse entities: unexpected end tag "{tag}"')
        _, entity = self.open.pop()
        entity["length"] = self.position - entity["offset"]
        if entity["length"]:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.position += utf16_length(data)


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _TelegramHTML()
    parser.feed(markup)
    parser.close()
    if parser.open:
        raise EntityParseError(f'Can\'t parse entities: unclosed tag "{parser.open[-1][0]}"')
    return "".join(parser.text), sorted(parser.entities, key=lambda e: e["offset"])
