"""The Alembic migrations build exactly the tables the models declare, on SQLite and PostgreSQL,
and processes that start together against a new database migrate it once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from helpdesk.schema import downgrade, head, metadata, upgrade
from helpdesk.settings import ROOT
from tests.auxil.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        yield (f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}" if request.param == "sqlite"
               else await stack.enter_async_context(fresh_database()))


async def test_migrations_build_what_the_models_declare(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata()))
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        # A model changed without `python -m helpdesk.schema revision` shows up here.
        assert differences == []
        declared = {name for meta in metadata() for name in meta.tables}
        assert declared <= tables
        assert {"inbox_updates", "kb_articles", "admin_users", "outbox"} <= declared

        await downgrade(engine, "base")
        async with engine.connect() as connection:
            left = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert left <= {"alembic_version"}
    finally:
        await engine.dispose()


async def test_processes_starting_together_migrate_once(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "helpdesk.schema", "upgrade", cwd=ROOT, env=env,
        stderr=asyncio.subprocess.PIPE) for _ in range(4)]
    results = await asyncio.gather(*(p.communicate() for p in processes))
    assert [p.returncode for p in processes] == [0] * 4, [err.decode()[-800:]
                                                          for _, err in results]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            versions = (await connection.execute(
                text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert versions == [head()]
    finally:
        await engine.dispose()
