"""`make ask`'s contract: one JSON line per input line on stdout, nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpdesk.settings import ROOT, Settings

pytestmark = pytest.mark.e2e

FIELDS = {"language": str, "intent": str, "articles": list, "answer": str,
          "answer_language": str, "machine_translated": bool, "handoff": bool,
          "emergency": bool, "latency_ms": (int, float)}


def test_ask_answers_each_line_with_one_json_line(backend: Settings) -> None:
    questions = [{"q": "Onde eu pego o saco de lixo da prefeitura?"},
                 {"q": "ok", "telegram_language_code": "pt"},
                 "this line is not JSON",
                 {"q": "my friend collapsed and is not breathing!!"},
                 {"q": "/start", "telegram_language_code": "vi"}]
    stdin = "".join((q if isinstance(q, str) else json.dumps(q, ensure_ascii=False)) + "\n"
                    for q in questions)
    # Pointed at the session's Rasa and action server, ask reuses them instead of starting more.
    env = {**os.environ, **backend.as_env(), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "helpdesk.ask"], input=stdin, env=env,
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert len(lines) == len(questions), run.stdout
    answers = [json.loads(line) for line in lines]
    for answer in answers:
        for field, kind in FIELDS.items():
            assert isinstance(answer[field], kind), (field, answer)

    garbage, ok, invalid, emergency, start = answers
    assert (garbage["language"], garbage["intent"]) == ("pt", "ask_question")
    assert garbage["articles"][0] == "garbage-sorting"
    assert garbage["answer_language"] == "pt" and "<b>" not in garbage["answer"]
    assert ok["language"] == "pt"
    assert "error" in invalid
    assert emergency["emergency"] and "119" in emergency["answer"]
    assert start["handled_by"] == "bot" and start["answer_language"] == "vi"
