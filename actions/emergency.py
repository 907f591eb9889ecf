"""Emergency: the numbers to call come first, in the resident's language, before anything else."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.meta import meta, resident_language


class ActionEmergency(Action):
    def name(self) -> str:
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_emergency",
            json_message=meta(emergency=True, answer_language=resident_language(tracker),
                              articles=["emergency-numbers"]))
        return []
