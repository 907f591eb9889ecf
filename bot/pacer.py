"""Evenly spaced sending, shared by concurrent workers, that stops when Telegram says so.

A token bucket would let a full second's worth of messages out at once; Telegram counts
messages over a sliding second, so a burst followed by the steady rate can exceed the limit.
Spacing every message 1/rate apart never does, in theory; in practice the network's jitter
brings some messages closer together on Telegram's side, so a sender spaced exactly at the limit
keeps drawing 429s, each costing a second of silence. Each 429 therefore also slows the pacer by
a tenth (never below half the configured rate), and a sender set at the ceiling settles under it.
"""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, rate_per_s: float) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.interval = self._base_interval = 1.0 / rate_per_s
        self._next = 0.0
        self._resume_at = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Returns when the caller may send one message."""
        while True:
            async with self._lock:
                now = time.monotonic()
                at = max(now, self._next, self._resume_at)
                self._next = at + self.interval
            await asyncio.sleep(at - now)
            # A 429 that arrived while we slept also holds back slots reserved before it.
            if time.monotonic() >= self._resume_at:
                return

    def pause(self, seconds: float) -> None:
        """Telegram answered 429 with retry_after: nobody sends before it has passed."""
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)
        self.interval = min(self.interval * 1.1, self._base_interval * 2)

    @property
    def rate_per_s(self) -> float:
        return 1.0 / self.interval
