"""The admin's side of notices to residents (issue 9), over the bot's broadcast API
(bot/broadcast.py, var/broadcast-api.md): who a notice will reach, machine drafts, and
delivery counts per language. The pages are in admin/routes/notices.py."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from admin.db import Database
from bot import garbage_calendar
from bot.broadcast import FALLBACK, FALLBACK_LANGUAGES, Broadcasts, Text
from bot.language import SERVED
from bot.outbox import OutboxMessage
from bot.store import Store

SOURCE = "en"
LANGUAGES = SERVED
#: The outbox's row statuses, grouped as the progress page shows them.
COLUMNS = {"sent": ("sent",), "pending": ("pending", "sending"), "failed": ("failed",),
           "blocked": ("blocked",), "in_doubt": ("unknown",), "cancelled": ("cancelled",)}


def broadcasts_on(database: Database) -> Broadcasts:
    """The broadcast API on the admin's own engine: Store() would open a second connection pool,
    without the admin's SQLite wait for the bot's write lock (admin/db.py)."""
    store = Store.__new__(Store)
    store.engine, store.sessions = database.engine, database.sessions
    return Broadcasts(store)


def machine_languages(translator: Any) -> list[str]:
    """The languages an engine can draft from English (en↔pt only, with the weights here)."""
    if translator is None:
        return []
    return [lang for lang in LANGUAGES if lang != SOURCE and translator.supports(SOURCE, lang)]


async def machine_translate(translator: Any, text: str, target: str) -> str:
    """English text translated line by line (as knowledge/repository.py's machine_draft does),
    so that a notice keeps its line breaks; in a thread: the engines are CPU-bound."""

    def run() -> str:
        return "\n".join(translator.translate(line, SOURCE, target).text if line.strip()
                         else line for line in text.split("\n"))

    return await asyncio.to_thread(run)


@dataclass(frozen=True, slots=True)
class Audience:
    """Residents of one language a notice would reach, and the text they would get."""

    language: str
    residents: int
    gets: str  # the language itself, or "en+ja" where the notice lacks it


async def audience(broadcasts: Broadcasts, topic: str, districts: list[str] | None,
                   texts: dict[str, Text]) -> list[Audience]:
    recipients = await broadcasts.subscriptions.recipients(topic, districts)
    counts = Counter(r.language for r in recipients)
    return [Audience(lang, n, lang if lang in texts else FALLBACK)
            for lang, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def missing_fallback(texts: dict[str, Text]) -> list[str]:
    return [lang for lang in FALLBACK_LANGUAGES if lang not in texts]


async def by_language(broadcasts: Broadcasts, notice_id: int) -> dict[str, dict[str, int]]:
    """Outbox rows per resident language and progress column ("sent", "in_doubt", …).
    Progress.by_language counts rows per text language only, without their status."""
    async with broadcasts.store.sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage.language, OutboxMessage.status, func.count())
            .where(OutboxMessage.notice_id == notice_id)
            .group_by(OutboxMessage.language, OutboxMessage.status))).all()
    column_of = {status: column for column, statuses in COLUMNS.items() for status in statuses}
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for language, status, count in rows:
        table[language][column_of.get(status, "pending")] += int(count)
    return dict(sorted(table.items()))


def districts(calendar: Path) -> dict[str, str]:
    """Garbage-calendar district ids and English names, for the district picker; none when the
    calendar cannot be read (a garbage notice then goes to every garbage subscriber)."""
    try:
        loaded = garbage_calendar.load(calendar)
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return {district_id: district.name("en") for district_id, district in
            loaded.districts.items()}
