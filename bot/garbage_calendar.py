"""Which garbage is collected on which day in each district, from a YAML calendar.

The shipped calendar (bot/data/garbage_calendar.sample.yml) is sample data; its header says
where the real schedule comes from. REMINDERS__CALENDAR points at another file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SAMPLE_CALENDAR = Path(__file__).parent / "data" / "garbage_calendar.sample.yml"
CATEGORIES = ("burnable", "non_burnable", "plastic", "cans_bottles", "pet_bottles")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DISTRICT_ID = re.compile(r"^[a-z0-9-]{1,32}$")


class CalendarError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Rule:
    weekdays: frozenset[int]
    #: (n, weekday): the n-th such weekday of the month, n from 1 to 5.
    nth_weekdays: frozenset[tuple[int, int]]

    def matches(self, day: dt.date) -> bool:
        if day.weekday() in self.weekdays:
            return True
        return ((day.day - 1) // 7 + 1, day.weekday()) in self.nth_weekdays


@dataclass(frozen=True, slots=True)
class District:
    id: str
    names: dict[str, str]
    rules: dict[str, Rule]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.id


@dataclass(frozen=True, slots=True)
class Calendar:
    districts: dict[str, District]
    no_collection: frozenset[dt.date]
    sample: bool

    def collections(self, district_id: str, day: dt.date) -> list[str]:
        """The categories collected that day, in CATEGORIES order."""
        district = self.districts.get(district_id)
        if district is None or day in self.no_collection:
            return []
        return [c for c in CATEGORIES if c in district.rules and district.rules[c].matches(day)]


def _weekday(raw: Any) -> int:
    if str(raw).lower() not in WEEKDAYS:
        raise CalendarError(f"unknown weekday {raw!r}")
    return WEEKDAYS.index(str(raw).lower())


def _rule(raw: dict[str, Any]) -> Rule:
    weekdays = frozenset(_weekday(w) for w in raw.get("weekdays", []))
    nth = set()
    for n, weekday in raw.get("nth_weekdays", []):
        if not 1 <= int(n) <= 5:
            raise CalendarError(f"nth weekday {n} out of range")
        nth.add((int(n), _weekday(weekday)))
    if not weekdays and not nth:
        raise CalendarError(f"a rule without days: {raw!r}")
    return Rule(weekdays, frozenset(nth))


def load(path: Path = SAMPLE_CALENDAR) -> Calendar:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    districts = {}
    for district_id, raw in (data.get("districts") or {}).items():
        if not DISTRICT_ID.match(str(district_id)):
            raise CalendarError(f"district id {district_id!r}: use a-z, 0-9 and '-'")
        unknown = set(raw.get("collections", {})) - set(CATEGORIES)
        if unknown:
            raise CalendarError(f"{district_id}: unknown categories {sorted(unknown)}")
        names = raw.get("name") or {}
        districts[str(district_id)] = District(
            str(district_id), names if isinstance(names, dict) else {"en": str(names)},
            {c: _rule(r) for c, r in raw.get("collections", {}).items()})
    if not districts:
        raise CalendarError(f"{path}: no districts")
    no_collection = frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
                              for d in data.get("no_collection") or [])
    return Calendar(districts, no_collection, bool(data.get("sample", False)))
