"""The emergency fast path (nlu/components/emergency_guard.py), run in the Rasa environment.

Each case hands the guard a message as the classifier left it (intent + ranking) and checks the
intent the bot will act on.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpdesk.settings import ROOT

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = r"""
import json, sys
from rasa.shared.nlu.training_data.message import Message
from nlu.components.emergency_guard import EmergencyGuard

guard = EmergencyGuard(EmergencyGuard.get_default_config())
out = []
for text, classified in json.loads(sys.argv[1]):
    ranking = [{"name": name, "confidence": c} for name, c in classified]
    message = Message.build(text=text)
    message.set("intent", ranking[0])
    message.set("intent_ranking", ranking)
    guard.process([message])
    out.append({"intent": message.get("intent")["name"],
                "confidence": message.get("intent")["confidence"],
                "ranking": [r["name"] for r in message.get("intent_ranking")],
                "guard": message.get("emergency_guard")})
print(json.dumps(out, ensure_ascii=False))
"""

QUESTION = [["ask_question", 0.7], ["emergency", 0.2], ["request_human", 0.1]]
HUMAN = [["request_human", 0.6], ["emergency", 0.3], ["ask_question", 0.1]]
ALARM = [["emergency", 0.8], ["ask_question", 0.15], ["request_human", 0.05]]

# (text, what the classifier said, the intent that must come out)
CASES = [
    # Urgent terms win over a wrong classifier, in several languages and spellings.
    ("my dad is not breathing", QUESTION, "emergency"),
    ("FIRE!!! kitchen", HUMAN, "emergency"),
    ("父が息をしてない", QUESTION, "emergency"),
    ("socorro, minha mãe desmaiou", HUMAN, "emergency"),
    ("chay nha roi cuu voi", QUESTION, "emergency"),  # Vietnamese typed without accents
    ("cháy nhà rồi cứu với", QUESTION, "emergency"),
    ("manche dhalyo sas ferdaina", QUESTION, "emergency"),  # romanized Nepali
    ("आगो लाग्यो", QUESTION, "emergency"),
    ("有人晕倒了", QUESTION, "emergency"),
    ("사람이 쓰러졌어요", QUESTION, "emergency"),
    ("มีคนหมดสติ", QUESTION, "emergency"),
    ("ada orang pingsan", QUESTION, "emergency"),
    ("nahimatay ang lola ko", QUESTION, "emergency"),
    ("mi papá no respira", QUESTION, "emergency"),
    # Preparedness and "what number" questions are never emergencies.
    ("what should i do if there is an earthquake at night", ALARM, "ask_question"),
    ("地震の備えは何をすればいい?", ALARM, "ask_question"),
    ("o que fazer se tiver terremoto", ALARM, "ask_question"),
    ("cần chuẩn bị gì cho động đất", ALARM, "ask_question"),
    # Words that look alarming in an ordinary question are left to the classifier.
    ("onde fica o pronto socorro aberto a noite", QUESTION, "ask_question"),
    ("quando cai o auxílio das crianças", QUESTION, "ask_question"),
    ("phòng khám cấp cứu ban đêm ở đâu", QUESTION, "ask_question"),
    ("비자 신청 좀 도와주세요", HUMAN, "request_human"),
    ("ビザの更新を助けてほしい", QUESTION, "ask_question"),
    ("what number do i call for an ambulance", QUESTION, "ask_question"),
    ("what does the tsunami siren sound like", QUESTION, "ask_question"),
    ("how much does it cost to call an ambulance", QUESTION, "ask_question"),
    ("gas leak in my kitchen", QUESTION, "emergency"),
    # Neither urgent nor hypothetical: the classifier's emergency stands.
    ("a kid fell into the river", ALARM, "emergency"),
]


@pytest.fixture(scope="module")
def results() -> list[dict]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not set up: run `make setup`")
    payload = json.dumps([[text, classified] for text, classified, _ in CASES],
                         ensure_ascii=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([str(RASA_PYTHON), "-c", SCRIPT, payload], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize(("index", "text", "expected"),
                         [(i, text, expected) for i, (text, _, expected) in enumerate(CASES)])
def test_intent_after_guard(results: list[dict], index: int, text: str, expected: str) -> None:
    assert results[index]["intent"] == expected, (text, results[index])


def test_forced_emergency_leads_the_ranking_and_says_why(results: list[dict]) -> None:
    forced = results[0]
    assert forced["confidence"] == 1.0
    assert forced["ranking"][0] == "emergency"
    assert forced["ranking"].count("emergency") == 1
    assert forced["guard"] == {"rule": "urgent", "language": "en", "term": "not breathing",
                               "overruled": "ask_question"}


def test_vetoed_emergency_leaves_the_ranking(results: list[dict]) -> None:
    vetoed = results[14]
    assert "emergency" not in vetoed["ranking"]
    assert vetoed["guard"]["rule"] == "hypothetical"
