"""Rasa's tracker store (SQLite by default, PostgreSQL in a deployment) and lock store (in memory,
or Redis for several replicas), chosen by settings and mapped onto nlu/endpoints.yml."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.erasure import _delete_rasa_events
from helpdesk.local_desk import free_port
from helpdesk.model import ensure_model, lock_store_env, rasa_env, tracker_store_env
from helpdesk.processes import Supervisor, rasa_service
from helpdesk.settings import ROOT, Settings
from tests.auxil.postgres import fresh_database

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
needs_rasa = pytest.mark.skipif(not RASA_PYTHON.exists(), reason=".venv-rasa is missing")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)


def test_defaults_are_sqlite_in_data_dir_and_an_in_memory_lock(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert tracker_store_env(settings) == {
        "RASA_TRACKER_DIALECT": "sqlite", "RASA_TRACKER_HOST": "", "RASA_TRACKER_PORT": "0",
        "RASA_TRACKER_DB": str(tmp_path / "rasa-tracker.db"), "RASA_TRACKER_USERNAME": "",
        "RASA_TRACKER_PASSWORD": ""}
    assert lock_store_env(settings)["RASA_LOCK_STORE_TYPE"] == "in_memory"
    assert settings.rasa_tracker_url == f"sqlite+aiosqlite:///{tmp_path / 'rasa-tracker.db'}"


def test_postgresql_and_redis_urls_become_endpoint_variables(tmp_path: Path) -> None:
    settings = _settings(tmp_path, rasa_tracker_database_url="postgresql://rasa:p%40ss@db:5433/rasa",
                         rasa_lock_store_url="redis://:s%3Acret@redis:6380/3")
    assert tracker_store_env(settings) == {
        "RASA_TRACKER_DIALECT": "postgresql", "RASA_TRACKER_HOST": "db",
        "RASA_TRACKER_PORT": "5433", "RASA_TRACKER_DB": "rasa", "RASA_TRACKER_USERNAME": "rasa",
        "RASA_TRACKER_PASSWORD": "p@ss"}
    assert lock_store_env(settings) == {
        "RASA_LOCK_STORE_TYPE": "redis", "RASA_LOCK_STORE_HOST": "redis",
        "RASA_LOCK_STORE_PORT": "6380", "RASA_LOCK_STORE_DB": "3",
        "RASA_LOCK_STORE_PASSWORD": "s:cret"}
    # /forget and retention delete Rasa's events through asyncpg, with the password kept escaped.
    assert settings.rasa_tracker_url == "postgresql+asyncpg://rasa:p%40ss@db:5433/rasa"
    assert _settings(tmp_path, rasa_tracker_database_url="postgres://h/rasa") \
        .rasa_tracker_url == "postgresql+asyncpg://h/rasa"
    assert tracker_store_env(_settings(tmp_path, rasa_tracker_database_url="postgresql://h/r"))[
        "RASA_TRACKER_PORT"] == "5432"


@pytest.mark.parametrize("field, value", [
    ("rasa_tracker_database_url", "mysql://h/rasa"),
    ("rasa_tracker_database_url", "postgresql://h/rasa?sslmode=require"),
    ("rasa_lock_store_url", "http://redis:6379"),
])
def test_unusable_store_urls_are_refused_at_start(tmp_path: Path, field: str,
                                                  value: str) -> None:
    with pytest.raises(ValueError, match="Rasa's"):
        _settings(tmp_path, **{field: value})


def _endpoint_variables() -> set[str]:
    """The ${VAR}s nlu/endpoints.yml reads (outside comments)."""
    lines = (ROOT / "nlu" / "endpoints.yml").read_text().splitlines()
    return {name for line in lines if not line.lstrip().startswith("#")
            for name in re.findall(r"\$\{(\w+)\}", line)}


def test_every_endpoint_variable_is_set() -> None:
    """Rasa refuses an endpoints file naming an unset ${VAR}, so rasa_env must set them all."""
    names = _endpoint_variables()
    env = rasa_env(Settings(_env_file=None))
    assert {"RASA_TRACKER_DIALECT", "RASA_LOCK_STORE_TYPE"} <= names
    assert names <= set(env), names - set(env)


STORES_PROBE = """
import json, sys
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.utils.endpoints import read_endpoint_config
tracker = TrackerStore.create(read_endpoint_config("nlu/endpoints.yml", "tracker_store"))
lock = LockStore.create(read_endpoint_config("nlu/endpoints.yml", "lock_store"))
url = tracker.engine.url
print(json.dumps({"tracker": type(tracker).__name__, "dialect": url.get_backend_name(),
                  "database": url.database,
                  "lock": type(lock).__name__,
                  "redis": lock.red.connection_pool.connection_kwargs
                  if hasattr(lock, "red") else None}, default=str))
"""


def _probe_stores(settings: Settings) -> dict[str, object]:
    done = subprocess.run([str(RASA_PYTHON), "-c", STORES_PROBE], cwd=ROOT, env=rasa_env(settings),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_rasa
def test_rasa_reads_the_default_stores(tmp_path: Path) -> None:
    """Rasa's own readers, on the variables rasa_env sets: SQLite in data_dir, lock in memory."""
    probe = _probe_stores(_settings(tmp_path))
    assert probe["tracker"] == "SQLTrackerStore"
    assert (probe["dialect"], probe["database"]) == ("sqlite", str(tmp_path / "rasa-tracker.db"))
    assert (tmp_path / "rasa-tracker.db").exists()  # the events table was created there
    assert probe["lock"] == "InMemoryLockStore"


@needs_rasa
def test_rasa_reads_the_redis_lock_store(tmp_path: Path) -> None:
    probe = _probe_stores(_settings(tmp_path, rasa_lock_store_url="redis://:pw@127.0.0.1:6390/4"))
    assert probe["lock"] == "RedisLockStore"
    redis = probe["redis"]
    assert isinstance(redis, dict)
    assert (redis["host"], redis["port"], redis["db"], redis["password"]) == \
        ("127.0.0.1", 6390, 4, "pw")


class RedisMonitor:
    """Every command the Redis server runs while it is open (MONITOR, spoken in plain RESP)."""

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 6379
        self.lines: list[str] = []

    async def __aenter__(self) -> RedisMonitor:
        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        except OSError as error:
            pytest.fail(f"Redis at {self.host}:{self.port} is not reachable: {error}")
        self.writer.write(b"*1\r\n$7\r\nMONITOR\r\n")
        await self.writer.drain()
        assert (await self.reader.readline()).strip() == b"+OK"
        self.task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while line := await self.reader.readline():
            self.lines.append(line.decode(errors="replace").strip())

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.2)  # the last replies
        self.task.cancel()
        self.writer.close()


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (Rasa runs in one process with 1 worker)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return total / 1024


@needs_rasa
@pytest.mark.e2e
async def test_rasa_run_keeps_conversations_in_postgresql_and_locks_in_redis(
        tmp_path: Path) -> None:
    redis_db = 1
    async with fresh_database() as database:
        settings = _settings(
            tmp_path, rasa_url=f"http://127.0.0.1:{free_port()}", action_port=free_port(),
            cache_dir=ROOT / "var" / "cache",
            rasa_tracker_database_url=database.replace("postgresql+asyncpg://", "postgresql://"),
            rasa_lock_store_url=f"{REDIS}/{redis_db}")
        model = ensure_model(settings)  # the cached model when its inputs are unchanged
        supervisor = Supervisor(tmp_path / "logs")
        started = time.monotonic()
        rasa = supervisor.start(rasa_service(settings, model))
        try:
            supervisor.wait_ready(rasa)
            ready_s = time.monotonic() - started
            sender = f"stores-{secrets.token_hex(6)}"
            token = settings.rasa_auth_token()
            async with httpx.AsyncClient(base_url=settings.rasa_url, timeout=120) as http:
                parsed = await http.post("/model/parse", params={"token": token},
                                         json={"text": "hello"})
                assert parsed.status_code == 200, parsed.text
                assert parsed.json()["intent"]["name"]
                async with RedisMonitor(REDIS) as monitor:
                    # The action server is not running: Rasa logs the failed action and answers.
                    reply = await http.post("/webhooks/rest/webhook",
                                            json={"sender": sender, "message": "hello"})
                assert reply.status_code == 200, reply.text
            rss = _rss_mib(rasa.process.pid)
            print(f"\nRasa ready in {ready_s:.0f} s; RSS after a message {rss:.0f} MiB")
            (tmp_path / "rasa-rss.txt").write_text(f"{rss:.1f}\n")
        finally:
            supervisor.stop_all()
        log = (tmp_path / "logs" / "rasa.log").read_text(errors="replace")

        # The lock for this conversation was taken and released in Redis database 1.
        lock_commands = [line for line in monitor.lines
                         if f'"lock:{sender}"' in line and f"[{redis_db} " in line]
        assert any('"SET"' in line for line in lock_commands), (monitor.lines[-20:], log[-3000:])
        assert any('"DEL"' in line for line in lock_commands), lock_commands

        # The conversation's events are rows in PostgreSQL's `events` table.
        engine = create_async_engine(database)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(
                    text("SELECT type_name, intent_name, action_name FROM events "
                         "WHERE sender_id = :s ORDER BY id"), {"s": sender})).all()
        finally:
            await engine.dispose()
        types = [row.type_name for row in rows]
        assert "user" in types, (rows, log[-3000:])
        assert [row.intent_name for row in rows if row.type_name == "user"] == \
            [parsed.json()["intent"]["name"]]
        assert ("action", "action_listen") in [(row.type_name, row.action_name) for row in rows]

        # …and /forget's erasure reaches them through settings.rasa_tracker_url (asyncpg).
        assert settings.rasa_tracker_url.startswith("postgresql+asyncpg://")
        erased = await _delete_rasa_events(settings.rasa_tracker_url, "sender_id = :sender",
                                           {"sender": sender})
        assert erased == len(rows)



def test_compose_file_runs_every_service_with_a_healthcheck() -> None:
    """docker-compose.yml's structure (no docker daemon here for `docker compose config`)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "rasa", "actions", "bot", "admin"}
    for name, service in services.items():
        assert "test" in service.get("healthcheck", {}), name
    stages = dict(re.findall(r"^FROM (\S+) AS (\w+)$", (ROOT / "Dockerfile").read_text(), re.M))
    assert stages == {"python:3.10-slim": "rasa", "python:3.11-slim": "app"}
    assert services["rasa"]["build"]["target"] == "rasa"
    for name in ("actions", "bot", "admin"):
        assert services[name]["build"]["target"] == "app", name
        assert services[name]["env_file"] == ".env", name
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    # Rasa in its container reads nlu/endpoints.yml too: every variable must be set there.
    names = _endpoint_variables()
    rasa_env_names = set(services["rasa"]["environment"])
    assert names <= rasa_env_names, names - rasa_env_names
    assert services["rasa"]["environment"]["RASA_LOCK_STORE_TYPE"] == "redis"
