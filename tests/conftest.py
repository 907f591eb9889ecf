"""Shared fixtures. Rasa and the action server start once per test session, on free ports,
against a scratch data directory; the Rasa model is trained only when its inputs changed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from emulator.app import create_app
from emulator.state import EmulatorState
from helpdesk.backend import ensure_backend
from helpdesk.local_desk import LocalDesk, free_port
from helpdesk.processes import Supervisor
from helpdesk.settings import EMULATOR_BOT_TOKEN, ROOT, Settings
from tests.auxil.servers import serving


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("data")
    return Settings(_env_file=None, telegram_bot_token=None, data_dir=data,
                    cache_dir=ROOT / "var" / "cache", rasa_url=f"http://127.0.0.1:{free_port()}",
                    action_port=free_port(), database_url=f"sqlite+aiosqlite:///{data / 'bot.db'}")


@pytest.fixture(scope="session")
def backend(settings: Settings) -> Iterator[Settings]:
    supervisor = Supervisor(settings.data_dir / "logs")
    try:
        ensure_backend(settings, supervisor)
        yield settings
    finally:
        supervisor.stop_all()
        for log in sorted(Path(settings.data_dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace")
            if "Traceback" in text:
                print(f"--- {log.name} (last lines) ---\n{text[-3000:]}")


@pytest.fixture(scope="session")
async def desk(backend: Settings) -> AsyncIterator[LocalDesk]:
    async with LocalDesk(backend) as running:
        yield running


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[EmulatorState, int]]:
    """A fresh Bot API emulator on its own port: (its state, the port)."""
    state = EmulatorState(EMULATOR_BOT_TOKEN)
    async with serving(create_app(state)) as port:
        yield state, port
