"""The admin's connection to the help desk's database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from helpdesk.schema import upgrade


def _sqlite_waits_for_writers(engine: Engine) -> None:
    # The bot writes to the same SQLite file from another process: wait for its lock instead of
    # failing at once with "database is locked".
    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.close()


class Database:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url)
        if self.engine.dialect.name == "sqlite":
            _sqlite_waits_for_writers(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_schema(self) -> None:
        """The admin's tables, and the bot's (read by the dashboard) where the bot has not yet
        started against this database."""
        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
