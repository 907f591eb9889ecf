"""How the help desk starts its services.

The Rasa command line is checked with Rasa's own argument parser, in Rasa's environment: a CI run
once failed because a random API token began with "-" and `rasa run` read it as an option.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpdesk.processes import rasa_service
from helpdesk.settings import ROOT, Settings

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

PARSE = r"""
import json, sys
from rasa.__main__ import create_argument_parser
parser = create_argument_parser()
for argv in json.loads(sys.argv[1]):
    args = parser.parse_args(argv)
    print(json.dumps({"auth_token": args.auth_token, "port": args.port, "model": args.model}))
"""


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="needs the Rasa environment (make setup)")
def test_rasa_reads_any_token_as_the_token(tmp_path: Path) -> None:
    tokens = ["-starts-with-a-dash", "--double", "plain_token"]
    services = [rasa_service(Settings(data_dir=tmp_path, rasa_token=token), tmp_path / "m.tar.gz")
                for token in tokens]
    result = subprocess.run([str(RASA_PYTHON), "-c", PARSE,
                             json.dumps([service.argv[1:] for service in services])],
                            cwd=ROOT, env=services[0].env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    port = int(Settings().rasa_url.rsplit(":", 1)[1])
    parsed = [json.loads(line) for line in result.stdout.strip().splitlines()[-len(tokens):]]
    assert parsed == [{"auth_token": token, "port": port, "model": str(tmp_path / "m.tar.gz")}
                      for token in tokens]


def test_generated_token_never_looks_like_an_option(tmp_path: Path) -> None:
    tokens = {Settings(data_dir=tmp_path / str(n)).rasa_auth_token() for n in range(200)}
    assert len(tokens) == 200
    assert all(token.isalnum() for token in tokens)
