"""Hands stored updates to python-telegram-bot: chats in parallel, each chat's updates in order."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket

import structlog
from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.inbox import Claimed, Inbox
from bot.services import Services

log = structlog.get_logger(__name__)


class Dispatcher:
    def __init__(self, application: Application, inbox: Inbox, services: Services, *,
                 concurrency: int = 64, idle_s: float = 0.5) -> None:
        self.application = application
        self.inbox = inbox
        self.services = services
        self.concurrency = concurrency
        self.idle_s = idle_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wake = asyncio.Event()
        self._active: dict[int, asyncio.Task[None]] = {}

    def wake(self) -> None:
        """A new update was stored: look now rather than at the next idle poll."""
        self._wake.set()

    async def run(self) -> None:
        renewing = asyncio.create_task(self._renew_leases())
        try:
            while True:
                # Cleared before the query, so a wake() during it is not lost.
                self._wake.clear()
                free = self.concurrency - len(self._active)
                claimed = await self.inbox.claim(self.owner, free) if free > 0 else []
                for item in claimed:
                    # A stalled event loop can let our own lease lapse: we reclaim the update we
                    # are still handling (renewing its lease), and must not start it twice.
                    if item.update_id not in self._active:
                        self._active[item.update_id] = asyncio.create_task(self._handle(item))
                if not claimed:
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow the
                    # cancellation that stops this loop.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.idle_s):
                            await self._wake.wait()
        finally:
            renewing.cancel()

    async def drain(self, timeout_s: float) -> None:
        """Lets updates in hand finish; whatever is still running after that is left to its
        lease, and whoever claims it next handles it."""
        if self._active:
            await asyncio.wait(list(self._active.values()), timeout=timeout_s)
        for task in list(self._active.values()):
            task.cancel()

    async def _handle(self, item: Claimed) -> None:
        try:
            if item.attempt > 1 and await self.services.store.turn_for_update(item.update_id):
                # An earlier try answered and recorded the turn, then died before finishing.
                log.warning("update_already_answered", update_id=item.update_id)
                metrics.UPDATES.labels("already_answered").inc()
            else:
                update = Update.de_json(item.payload, self.application.bot)
                await self.application.process_update(update)
                metrics.UPDATES.labels("handled").inc()
            await self.inbox.finish(item.update_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("update_failed", update_id=item.update_id, attempt=item.attempt)
            retried = await self.inbox.release(item.update_id)
            metrics.UPDATES.labels("retried" if retried else "failed").inc()
        finally:
            self._active.pop(item.update_id, None)
            self._wake.set()
        # After the inbox has it as finished, so whoever waits sees the committed outcome.
        await self.services.update_done(item.update_id)

    async def _renew_leases(self) -> None:
        period = max(0.2, self.inbox.lease_ms / 3000)
        while True:
            await asyncio.sleep(period)
            try:
                await self.inbox.renew(self.owner, list(self._active))
            except Exception:  # a database hiccup must not stop the renewals
                log.exception("lease_renewal_failed")
