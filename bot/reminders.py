"""Garbage-day reminders, the evening before (Asia/Tokyo), to each district's subscribers.

A repeating job checks what is due. Each district's reminder for a date becomes one notice
whose dedupe_key ("garbage:<district>:<date>") is unique in the database, and it is created
and queued in one transaction; so after a restart the next check queues whatever was not yet
queued and nothing twice. Reminders are queued only between send_from and send_until, so a bot
that was down for the whole evening does not wake residents at night with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import structlog

from bot import texts
from bot.broadcast import CURATED, Broadcasts, Text
from bot.garbage_calendar import Calendar
from bot.language import SERVED
from bot.subscriptions import GARBAGE
from helpdesk.settings import ReminderSettings

log = structlog.get_logger(__name__)
JOB_NAME = "garbage_reminders"


def reminder_text(calendar: Calendar, district_id: str, day: dt.date, categories: list[str],
                  language: str) -> str:
    weekday = texts.text("weekdays", language).split(",")[day.weekday()]
    text = texts.text("garbage_reminder", language, date=f"{day.isoformat()} ({weekday})",
                      district=calendar.districts[district_id].name(language),
                      categories=", ".join(texts.text(f"garbage_{c}", language)
                                           for c in categories))
    if calendar.sample:
        text += "\n" + texts.text("garbage_sample_note", language)
    return text


@dataclass
class Reminders:
    broadcasts: Broadcasts
    calendar: Calendar
    settings: ReminderSettings

    def due_date(self, now: dt.datetime) -> dt.date | None:
        """Tomorrow's date while reminders for it may go out, else None."""
        local = now.astimezone(ZoneInfo(self.settings.timezone))
        if self.settings.send_from <= local.time() < self.settings.send_until:
            return local.date() + dt.timedelta(days=1)
        return None

    async def run_due(self, now: dt.datetime) -> dict[str, int]:
        """Queues every reminder due at `now` not queued before: {dedupe key: residents}."""
        day = self.due_date(now)
        if day is None:
            return {}
        queued = {}
        for district_id in self.calendar.districts:
            categories = self.calendar.collections(district_id, day)
            if not categories:
                continue
            key = f"garbage:{district_id}:{day.isoformat()}"
            notice_texts = {code: Text(reminder_text(self.calendar, district_id, day,
                                                     categories, code), CURATED)
                            for code in SERVED}
            result = await self.broadcasts.create_and_send(
                GARBAGE, notice_texts, created_by="reminders", districts=[district_id],
                dedupe_key=key)
            if result is not None:
                queued[key] = result[1]
                log.info("reminder_queued", key=key, notice=result[0], residents=result[1])
        return queued
