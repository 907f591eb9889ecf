"""The trained Rasa model, retrained only when its inputs change (keyed by their hash)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

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


def rasa_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.as_env(), "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_CACHE_DIRECTORY": str(settings.cache_dir / "rasa-training"),
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.action_port}/webhook",
            "RASA_TRACKER_DB": str(settings.data_dir / "rasa-tracker.db"),
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
