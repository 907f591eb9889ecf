"""What the handlers need, built once by `bot.app` and reached through `context.bot_data`."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from bot.counselor_translation import Translator
from bot.rasa_client import RasaClient
from bot.store import Store, Turn
from bot.tickets import Tickets
from helpdesk.settings import Settings

SERVICES_KEY = "services"
UpdateListener = Callable[[int], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    store: Store
    rasa: RasaClient
    #: Machine translation of counselors' replies; None relays them as written.
    translator: Translator | None = None
    #: Called with each update's ID once it is handled and marked so (`make ask`, tests).
    update_listeners: list[UpdateListener] = field(default_factory=list)
    #: One lock per chat keeps a resident's replies in the order of their messages.
    chat_locks: defaultdict[int, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock))
    #: One lock per ticket keeps counselors' replies in order and /close after them.
    ticket_locks: defaultdict[int, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock))

    def __post_init__(self) -> None:
        self.tickets = Tickets(self.store)

    async def record_turn(self, turn: Turn) -> None:
        await self.store.add_turn(turn)

    async def update_done(self, update_id: int) -> None:
        for listener in self.update_listeners:
            await listener(update_id)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data[SERVICES_KEY]
