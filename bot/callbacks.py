"""Callback data of inline buttons, within Telegram's 64 bytes, and read back defensively."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64
LANGUAGE = "lang"
RASA = "rasa"
RATING = "rate"  # value "<ticket>:<1-5>"
SUBSCRIBE = "sub"  # value: see bot/subscribe.py
FORGET = "forget"  # value "yes" | "no"


@dataclass(frozen=True, slots=True)
class Callback:
    kind: str
    value: str


def encode(kind: str, value: str) -> str | None:
    """None when it would not fit; callers then leave the button out rather than break it."""
    data = f"{kind}|{value}"
    return data if len(data.encode()) <= MAX_BYTES else None


def decode(data: str | None) -> Callback | None:
    """None for anything this bot did not produce (old, foreign or tampered buttons)."""
    if not data or "|" not in data:
        return None
    kind, value = data.split("|", 1)
    if kind not in (LANGUAGE, RASA, RATING, SUBSCRIBE, FORGET) or not value:
        return None
    return Callback(kind, value)
