"""Starting, waiting for and stopping the help desk's processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from helpdesk.model import RASA_BIN, rasa_env
from helpdesk.settings import ROOT, Settings

APP_PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str | None = None
    ready_timeout_s: float = 60.0


@dataclass
class Running:
    service: Service
    process: subprocess.Popen[bytes]
    log: IO[bytes] | None = field(default=None)


def app_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.as_env(), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}


def rasa_service(settings: Settings, model: Path) -> Service:
    port = settings.rasa_url.rsplit(":", 1)[1]
    token = settings.rasa_auth_token()
    # One argument `--auth-token=…`: a token starting with "-" would otherwise read as an option.
    return Service("rasa", [str(RASA_BIN), "run", "--enable-api", f"--auth-token={token}",
                            "-i", "127.0.0.1", "-p", port, "--model", str(model),
                            "--endpoints", "nlu/endpoints.yml", "--credentials",
                            "nlu/credentials.yml", "--cors", "http://127.0.0.1"],
                   rasa_env(settings), f"{settings.rasa_url}/status?token={token}", 180.0)


def action_service(settings: Settings) -> Service:
    # On a fresh machine the action server first embeds the whole knowledge base (minutes on 2
    # busy cores); later starts load the saved index in about a second.
    return Service("actions", [str(APP_PYTHON), "-m", "actions", "--port",
                               str(settings.action_port)], app_env(settings),
                   f"http://127.0.0.1:{settings.action_port}/health", 900.0)


def web_service(settings: Settings) -> Service:
    """The staff admin at /admin, and without a bot token the Bot API emulator and chat page."""
    return Service("web", [str(APP_PYTHON), "-m", "helpdesk.web", "--host", settings.web_host,
                           "--port", str(settings.web_port)], app_env(settings),
                   f"{settings.web_url}/admin/login", 60.0)


def bot_service(settings: Settings) -> Service:
    return Service("bot", [str(APP_PYTHON), "-m", "bot"], app_env(settings))


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def is_up(url: str) -> bool:
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    if "/status" in url:  # Rasa answers /status before its model has loaded
        return bool(response.json().get("model_id"))
    return True


class Supervisor:
    """Runs services in their own sessions, so Ctrl-C reaches only us and we stop them in order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Running] = []

    def start(self, service: Service, *, to_terminal: bool = False) -> Running:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = None if to_terminal else open(self.log_dir / f"{service.name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(service.argv, cwd=ROOT, env=service.env,
                                   stdout=log or sys.stderr, stderr=log or sys.stderr,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        running = Running(service, process, log)
        self.running.append(running)
        return running

    def wait_ready(self, running: Running) -> None:
        service = running.service
        if service.ready_url is None:
            return
        deadline = time.monotonic() + service.ready_timeout_s
        while not is_up(service.ready_url):
            if running.process.poll() is not None:
                log = self.log_dir / f"{service.name}.log"
                # The tail goes into the error because a CI machine's log dies with the machine.
                raise RuntimeError(f"{service.name} exited with {running.process.returncode}; "
                                   f"{log} ends with:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service.name} not ready after {service.ready_timeout_s} s")
            time.sleep(0.5)

    def stop_all(self, timeout_s: float = 20.0) -> None:
        for running in reversed(self.running):
            if running.process.poll() is None:
                os.killpg(running.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for running in reversed(self.running):
            try:
                running.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(running.process.pid, signal.SIGKILL)
                running.process.wait()
            if running.log:
                running.log.close()
        self.running.clear()
