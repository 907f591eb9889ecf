"""The admin's connection to the help desk's database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from helpdesk.schema import shared_engine, upgrade


class Database:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = shared_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def create_schema(self) -> None:
        """The admin's tables, and the bot's (read by the dashboard) where the bot has not yet
        started against this database."""
        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()
