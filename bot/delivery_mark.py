"""Recording a turn at the last moment before its answer leaves for Telegram.

Why: after a crash, an update whose turn is recorded is not answered again (bot.dispatcher). The
record must therefore be written as late as possible before the answer is sent, and not earlier:
answers can wait seconds in the rate limiter (30 messages/s for the whole bot), and a turn recorded
before that wait would mark a message as answered that a crash then leaves unanswered. So the
record is written inside the rate limiter, after its wait, just before the request goes out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from telegram.ext import AIORateLimiter

Record = Callable[[], Awaitable[None]]

_PENDING: ContextVar[Mark | None] = ContextVar("pending_turn_mark", default=None)


class Mark:
    def __init__(self, record: Record) -> None:
        self._record = record
        self.done = False

    async def ensure(self) -> None:
        """Writes the record unless a send already did (once, whatever happens after)."""
        if not self.done:
            self.done = True
            await self._record()


@contextmanager
def marking(record: Record) -> Iterator[Mark]:
    """Within this block, the first message sent writes `record` just before it leaves."""
    mark = Mark(record)
    token = _PENDING.set(mark)
    try:
        yield mark
    finally:
        _PENDING.reset(token)


class MarkingRateLimiter(AIORateLimiter):
    async def process_request(
            self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
            kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
            rate_limit_args: int | None) -> Any:
        mark = _PENDING.get()
        if mark is None or mark.done or not endpoint.startswith("send") \
                or endpoint == "sendChatAction":
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                  rate_limit_args)

        async def marked_then_sent(*call_args: Any, **call_kwargs: Any) -> Any:
            await mark.ensure()
            return await callback(*call_args, **call_kwargs)

        return await super().process_request(marked_then_sent, args, kwargs, endpoint, data,
                                              rate_limit_args)
