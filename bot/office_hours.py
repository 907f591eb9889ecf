"""When counselors are at their desks: configured days and hours in the office's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from helpdesk.settings import Settings

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _minutes(clock: str) -> int:
    """"08:30" → 510; "24:00" is accepted as the end of the day."""
    hours, minutes = clock.strip().split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"not a time of day: {clock!r}")
    return value


@dataclass(frozen=True, slots=True)
class OfficeHours:
    zone: ZoneInfo
    days: frozenset[int]
    opens: int  # minutes after midnight
    closes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> OfficeHours:
        return cls(ZoneInfo(settings.office_timezone), frozenset(settings.office_days),
                   _minutes(settings.office_opens), _minutes(settings.office_closes))

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and self.opens <= minute < self.closes

    def describe(self, day_names: Sequence[str] = DAY_NAMES) -> str:
        """"Mon–Fri 08:30–17:15 (Asia/Tokyo)", with the resident's own weekday abbreviations."""
        days = sorted(self.days)
        if not days:
            return "—"
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            names = f"{day_names[days[0]]}–{day_names[days[-1]]}"
        else:
            names = ", ".join(day_names[d] for d in days)

        def clock(value: int) -> str:
            return f"{value // 60:02d}:{value % 60:02d}"

        return f"{names} {clock(self.opens)}–{clock(self.closes)} ({self.zone.key})"
