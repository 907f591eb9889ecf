"""Starts and stops, with the bot, what sends notices on its own: the outbox sender (a
background task) and the garbage reminders (a JobQueue job)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from telegram.ext import Application, ContextTypes

from bot import garbage_calendar
from bot.broadcast import Broadcasts
from bot.outbox import OutboxSender, bot_sender, outbox_bot
from bot.reminders import JOB_NAME, Reminders
from bot.services import SERVICES_KEY, Services
from bot.subscribe import CALENDAR_KEY
from bot.tickets import utcnow

log = structlog.get_logger(__name__)
SENDER_KEY, REMINDERS_KEY = "outbox_sender", "reminders"
#: How long a stopping sender may take to record the messages in flight.
STOP_GRACE_S = 25.0


async def start(application: Application) -> None:
    svc: Services = application.bot_data[SERVICES_KEY]
    reminder_settings = svc.settings.reminders
    calendar = garbage_calendar.load(reminder_settings.calendar)
    application.bot_data[CALENDAR_KEY] = calendar

    outbox_settings = svc.settings.broadcast
    base_url = svc.settings.web_url if svc.settings.emulated else None
    bot = outbox_bot(svc.settings.bot_token, base_url, outbox_settings.workers)
    await bot.initialize()
    sender = OutboxSender(svc.store, bot_sender(bot), outbox_settings)
    task = asyncio.create_task(sender.run(), name="outbox")
    application.bot_data[SENDER_KEY] = (sender, task, bot)

    if calendar.sample and not svc.settings.emulated and not reminder_settings.allow_sample:
        log.warning("reminders_off_sample_calendar", calendar=str(reminder_settings.calendar))
    elif application.job_queue is not None:
        application.bot_data[REMINDERS_KEY] = Reminders(Broadcasts(svc.store), calendar,
                                                        reminder_settings)
        application.job_queue.run_repeating(send_due_reminders,
                                            interval=reminder_settings.check_interval_s,
                                            first=1.0, name=JOB_NAME)


async def stop(application: Application) -> None:
    started = application.bot_data.pop(SENDER_KEY, None)
    if started is None:
        return
    sender, task, bot = started
    sender.stop()
    try:
        await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_S)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await bot.shutdown()


async def send_due_reminders(context: ContextTypes.DEFAULT_TYPE) -> None:
    reminders: Reminders = context.bot_data[REMINDERS_KEY]
    await reminders.run_due(utcnow())
