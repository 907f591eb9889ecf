"""Handing a resident to the counselors: offer first, then ask the bot to open the ticket.

The ticket itself lives with the bot, which owns the Telegram side of the relay; the action only
says, through the reply's meta, that the resident asked for it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.meta import meta, resident_language


class ActionOfferHandoff(Action):
    def name(self) -> str:
        return "action_offer_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_offer_handoff",
                                 json_message=meta(handoff="offered",
                                                   answer_language=resident_language(tracker)))
        return []


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_started",
                                 json_message=meta(handoff="requested",
                                                   answer_language=resident_language(tracker)))
        return []
