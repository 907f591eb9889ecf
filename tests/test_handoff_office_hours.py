"""Office hours: which moments are open, and the line residents are shown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot import texts
from bot.office_hours import OfficeHours
from helpdesk.settings import Settings

TOKYO = dt.timezone(dt.timedelta(hours=9))


def hours(tmp_path: Path, **values: object) -> OfficeHours:
    return OfficeHours.from_settings(Settings(_env_file=None, data_dir=tmp_path, **values))


@pytest.mark.parametrize(("local", "is_open"), [
    (dt.datetime(2026, 11, 25, 8, 29, tzinfo=TOKYO), False),  # Wednesday, before opening
    (dt.datetime(2026, 11, 25, 8, 30, tzinfo=TOKYO), True),
    (dt.datetime(2026, 11, 25, 17, 14, tzinfo=TOKYO), True),
    (dt.datetime(2026, 11, 25, 17, 15, tzinfo=TOKYO), False),  # closing time is closed
    (dt.datetime(2026, 11, 28, 10, 0, tzinfo=TOKYO), False),  # Saturday
])
def test_default_hours_are_weekdays_in_tokyo(tmp_path: Path, local: dt.datetime,
                                             is_open: bool) -> None:
    office = hours(tmp_path)
    assert office.is_open(local) is is_open
    assert office.is_open(local.astimezone(dt.UTC)) is is_open  # the zone, not the host's
    assert office.describe() == "Mon–Fri 08:30–17:15 (Asia/Tokyo)"


def test_midnight_to_midnight_is_always_open(tmp_path: Path) -> None:
    office = hours(tmp_path, office_days=list(range(7)), office_opens="00:00",
                   office_closes="24:00")
    assert office.is_open(dt.datetime(2026, 11, 29, 23, 59, 59, tzinfo=TOKYO))
    assert office.is_open(dt.datetime(2026, 11, 29, 0, 0, tzinfo=TOKYO))


def test_scattered_days_are_listed(tmp_path: Path) -> None:
    office = hours(tmp_path, office_days=[1, 3], office_opens="13:00", office_closes="16:00")
    assert office.describe() == "Tue, Thu 13:00–16:00 (Asia/Tokyo)"
    assert office.describe(texts.text("weekdays", "vi").split(",")) == \
        "T3, T5 13:00–16:00 (Asia/Tokyo)"
    with pytest.raises(ValueError):
        hours(tmp_path, office_opens="25:00")
