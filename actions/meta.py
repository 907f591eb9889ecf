"""What an action tells the bot about its reply, beside the text the resident reads.

Rasa's REST channel passes a message's `custom` payload through untouched; the bot reads
`meta` from it to label machine translation, open handoffs and record what the answer drew on.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

SERVED = ("en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th")


def resident_language(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in SERVED else "en"


def meta(**fields: Any) -> dict[str, Any]:
    return {"meta": fields}
