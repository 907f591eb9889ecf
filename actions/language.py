"""Keeps the `language` slot equal to the language the bot decided for the resident."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.meta import SERVED


class ActionSetLanguage(Action):
    def name(self) -> str:
        return "action_set_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        language = (tracker.latest_message.get("metadata") or {}).get("language")
        if language in SERVED and language != tracker.get_slot("language"):
            return [SlotSet("language", language)]
        return []
