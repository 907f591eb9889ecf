"""A SQLite store of finished translations, so the same text is translated once per engine
version. The stdlib driver is enough: one small table, short synchronous look-ups."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    source_text TEXT NOT NULL,
    engine TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    source_language TEXT NOT NULL,
    target_language TEXT NOT NULL,
    -- glossary digest and protection rules: changing either changes the output
    recipe TEXT NOT NULL,
    translated_text TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (source_text, engine, engine_version, source_language, target_language, recipe)
)
"""


@dataclass(frozen=True, slots=True)
class CacheKey:
    text: str
    engine: str
    engine_version: str
    src: str
    tgt: str
    recipe: str = ""


class TranslationCache:
    """`path` may be ":memory:" (tests, one-off runs)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by threads (the bot translates in worker threads), serialised
        # by the lock; SQLite look-ups take microseconds.
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)

    def get(self, key: CacheKey) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT translated_text FROM translations WHERE source_text=? AND engine=? AND "
                "engine_version=? AND source_language=? AND target_language=? AND recipe=?",
                (key.text, key.engine, key.engine_version, key.src, key.tgt, key.recipe),
            ).fetchone()
        return row[0] if row else None

    def put(self, key: CacheKey, translated: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key.text, key.engine, key.engine_version, key.src, key.tgt, key.recipe,
                 translated, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM translations")

    def close(self) -> None:
        with self._lock:
            self._db.close()
