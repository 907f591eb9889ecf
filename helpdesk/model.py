"""The trained Rasa model, retrained only when its inputs change (keyed by their hash)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import make_url

from helpdesk.settings import ROOT, Settings

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL_INPUTS = ("config.yml", "nlu/domain", "nlu/data", "nlu/components", "requirements/rasa.lock")


def inputs_hash(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = root / name
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts)
        else:
            files = [path] if path.exists() else []
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def tracker_store_env(settings: Settings) -> dict[str, str]:
    """RASA_TRACKER_DATABASE_URL as the variables nlu/endpoints.yml's SQL tracker store reads.

    Rasa fails on an unset ${VAR}, so each is always set; SQLite takes empty ones (port 0)."""
    url = settings.rasa_tracker_database_url
    if url is None:
        url = f"sqlite:///{settings.data_dir / 'rasa-tracker.db'}"
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    return {"RASA_TRACKER_DIALECT": "sqlite" if sqlite else "postgresql",
            "RASA_TRACKER_HOST": parsed.host or "",
            "RASA_TRACKER_PORT": "0" if sqlite else str(parsed.port or 5432),
            "RASA_TRACKER_DB": parsed.database or "",
            "RASA_TRACKER_USERNAME": parsed.username or "",
            "RASA_TRACKER_PASSWORD": parsed.password or ""}


def lock_store_env(settings: Settings) -> dict[str, str]:
    """RASA_LOCK_STORE_URL as nlu/endpoints.yml's lock store: Redis when set, else in memory."""
    url = urlsplit(settings.rasa_lock_store_url or "redis://")
    return {"RASA_LOCK_STORE_TYPE": "redis" if settings.rasa_lock_store_url else "in_memory",
            "RASA_LOCK_STORE_HOST": url.hostname or "localhost",
            "RASA_LOCK_STORE_PORT": str(url.port or 6379),
            "RASA_LOCK_STORE_DB": url.path.strip("/") or "1",
            "RASA_LOCK_STORE_PASSWORD": unquote(url.password or "")}


def rasa_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.as_env(), "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_CACHE_DIRECTORY": str(settings.cache_dir / "rasa-training"),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.action_port}/webhook",
            **tracker_store_env(settings), **lock_store_env(settings),
            "SANIC_HOST": "127.0.0.1"}


def ensure_model(settings: Settings) -> Path:
    """The model for the current inputs, training it first when there is none (≈1 minute)."""
    models = settings.cache_dir / "models"
    name = f"nlu-{inputs_hash()}"
    model = models / f"{name}.tar.gz"
    if model.exists():
        return model
    print(f"Training the Rasa model {name} (about a minute)…", file=sys.stderr, flush=True)
    models.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(RASA_BIN), "train", "--config", "config.yml", "--domain", "nlu/domain",
                    "--data", "nlu/data", "--out", str(models), "--fixed-model-name", name],
                   cwd=ROOT, env=rasa_env(settings), check=True, stdout=sys.stderr)
    for old in models.glob("nlu-*.tar.gz"):
        if old != model:
            old.unlink()
    return model
