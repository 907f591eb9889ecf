"""The database schema, kept by Alembic migrations (helpdesk/migrations/).

Every process that opens the database calls `upgrade`: the first brings a new or older database
to the current revision, the others find it current. A lock (a file beside a SQLite database, an
advisory lock on PostgreSQL) keeps processes that start together from migrating at once.

`python -m helpdesk.schema upgrade` migrates the configured database (`make migrate`);
`python -m helpdesk.schema revision -m "what changed"` writes a new migration from the models.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import importlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
#: Every module that declares tables; the migrations cover all of them.
MODEL_MODULES = ("bot.store", "bot.tickets", "bot.inbox", "bot.subscriptions", "bot.broadcast",
                 "bot.outbox", "actions.feedback_store", "knowledge.db", "admin.models")
_PG_LOCK = 0x6865_6c70  # any constant shared by every process of the help desk


def metadata() -> list[MetaData]:
    bases = {importlib.import_module(name).Base.metadata for name in MODEL_MODULES
             if hasattr(importlib.import_module(name), "Base")}
    return sorted(bases, key=lambda meta: sorted(meta.tables))


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def shared_engine(url: str) -> AsyncEngine:
    """An engine on the database other processes write too: on SQLite it waits up to 10 s for
    their lock instead of failing at once with "database is locked"."""
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine.sync_engine, "connect")
        def _busy_timeout(connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 10000")
            cursor.close()
    return engine


def head() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _file_lock(engine: AsyncEngine) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks the event loop briefly, once, at start-up
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the database to `revision` (the newest by default)."""
    # Alembic reports every step at INFO; a start-up of several processes needs none of it.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with _file_lock(engine):
        async with engine.connect() as connection:
            if revision == "head" and await connection.run_sync(_current) == head():
                return
            postgres = engine.dialect.name == "postgresql"
            if postgres:
                await connection.execute(text("SELECT pg_advisory_lock(:key)"),
                                         {"key": _PG_LOCK})
                await connection.commit()
            try:
                await connection.run_sync(
                    lambda sync: command.upgrade(config(sync), revision))
                await connection.commit()
            finally:
                if postgres:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                             {"key": _PG_LOCK})
                    await connection.commit()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    with _file_lock(engine):
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.downgrade(config(sync), revision))
            await connection.commit()


async def _revision(message: str) -> None:
    """Autogenerates against a scratch SQLite database at the current head."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_async_engine(f"sqlite+aiosqlite:///{scratch}/schema.db")
        try:
            await upgrade(engine)
            async with engine.connect() as connection:
                await connection.run_sync(lambda sync: command.revision(
                    config(sync), message=message, autogenerate=True))
        finally:
            await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    from helpdesk.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m helpdesk.schema")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("upgrade", help="migrate the configured database to the newest revision")
    revision = actions.add_parser("revision", help="write a migration for changed models")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.action == "revision":
        asyncio.run(_revision(args.message))
        return 0

    async def migrate() -> None:
        engine = create_async_engine(get_settings().db_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
