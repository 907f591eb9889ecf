"""Flood control: a resident sending faster than a person types gets one polite slow-down note,
and the rest of the burst is quietly dropped instead of queueing answers (and Rasa calls).

The count is kept in this process's memory only: with several bot replicas each one counts the
updates it handles, so a flood spread over replicas may get up to `replicas × limit` through.
That is acceptable because each chat's updates are handled one at a time, mostly by whichever
replica is free, and the guard exists to spare Rasa and the resident's screen, not as a
security boundary. A shared counter (the database) would cost a write per message.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: How often (in checks) chats whose last message left the window are forgotten, so the map
#: does not grow with every resident ever seen.
_SWEEP_EVERY = 1000


@dataclass
class _Chat:
    times: deque[float] = field(default_factory=deque)
    #: The slow-down note went out for the burst still in the window; not sent twice.
    warned: bool = False


class FloodGuard:
    """More than `limit` messages from one chat within `window_s` seconds is a flood.

    Times are the messages' own (Telegram's `date`), not when this process handles them: after
    an outage the inbox hands over a backlog all at once, and that must not read as a flood.
    Every message counts, dropped ones too, so someone who keeps hammering stays slowed down
    until they pause for a whole window.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._chats: dict[int, _Chat] = {}
        self._checks = 0

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window_s > 0

    def check(self, chat_id: int, at: float) -> str:
        """"ok" to handle the message, "warn" to send the note once, "drop" to ignore it."""
        if not self.enabled:
            return "ok"
        self._sweep(at)
        chat = self._chats.setdefault(chat_id, _Chat())
        chat.times.append(at)
        while chat.times and chat.times[0] <= at - self.window_s:
            chat.times.popleft()
        if len(chat.times) <= self.limit:
            chat.warned = False
            return "ok"
        if chat.warned:
            return "drop"
        chat.warned = True
        return "warn"

    def _sweep(self, now: float) -> None:
        self._checks += 1
        if self._checks % _SWEEP_EVERY:
            return
        stale = [chat_id for chat_id, chat in self._chats.items()
                 if not chat.times or chat.times[-1] <= now - self.window_s]
        for chat_id in stale:
            del self._chats[chat_id]
