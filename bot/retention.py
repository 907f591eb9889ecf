"""The daily retention job: conversations older than `retention_days` are deleted."""

from __future__ import annotations

import structlog
from telegram.ext import ContextTypes

from bot.erasure import purge_older_than
from bot.services import services

log = structlog.get_logger(__name__)

JOB_NAME = "retention"
INTERVAL_S = 24 * 3600


async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    erased = await purge_older_than(svc.store, svc.settings.rasa_tracker_url,
                                    svc.settings.retention_days)
    log.info("retention_purge", days=svc.settings.retention_days, turns=erased.turns,
             ticket_messages=erased.ticket_messages, rasa_events=erased.rasa_events)
