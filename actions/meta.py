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


def unserved_language(tracker: Tracker) -> str | None:
    """The language the resident writes when the help desk does not serve it (e.g. "my")."""
    written = (tracker.latest_message.get("metadata") or {}).get("written_language")
    return written if written and written not in SERVED and written != "und" else None
