"""Trains and evaluates the Rasa NLU model; run by `make bench-nlu` (bench/nlu.py) under
.venv-rasa/bin/python (Python 3.10, Rasa 3.6). Prints one JSON document on stdout; Rasa's own
output goes to stderr (`--out FILE`: the JSON goes to FILE instead).

* Cross-validation: the training examples of nlu/data/nlu/*.yml, split into K folds stratified by
  intent and language; for each fold an NLU-only model is trained on the other folds.
* Holdout: a full model (config.yml, nlu/domain, nlu/data: what the bot runs) is trained on all
  training data; a fresh process (`--probe`) then times Agent.load, parses every message of
  nlu/tests/nlu_holdout.yml one at a time and reports its own peak RSS.

The language of an example is the `# <lang>` comment above its `- intent:` entry; ASCII-only text
in a `# ne` block is counted as romanized Nepali (ne-Latn), in a `# vi` block as Vietnamese
without accents (vi-ascii).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on sys.path, and bench/nlu.py would shadow
# the `nlu` package that holds the custom components.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)

from bench.labelled import nlu_examples  # noqa: E402  (needs the path above)

TRAIN_DIR = ROOT / "nlu" / "data" / "nlu"
HOLDOUT = ROOT / "nlu" / "tests" / "nlu_holdout.yml"
# Ordinary questions (the retrieval benchmark's held-out set): none may become an emergency.
QUESTIONS = ROOT / "bench" / "data" / "retrieval_eval.yml"
TOKENIZERS = {
    "whitespace": {"name": "WhitespaceTokenizer"},
    "char": {"name": "nlu.components.script_tokenizer.ScriptTokenizer", "mode": "char"},
    "bigram": {"name": "nlu.components.script_tokenizer.ScriptTokenizer", "mode": "bigram"},
}


def read_nlu_file(path: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(examples with text/intent/lang, other top-level entries such as lookup tables)."""
    examples = [{"text": e.text, "intent": e.intent, "lang": e.variant}
                for e in nlu_examples(path)]
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []
    return examples, [entry for entry in entries if "intent" not in entry]


def read_training_data() -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    examples: list[dict[str, str]] = []
    others: list[dict[str, Any]] = []
    for path in sorted(TRAIN_DIR.glob("*.yml")):
        found, other = read_nlu_file(path)
        examples += found
        others += other
    return examples, others


def write_nlu(path: Path, examples: list[dict[str, str]], others: list[dict[str, Any]]) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_intent[example["intent"]].append(example["text"])
    entries: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
        for intent, texts in by_intent.items()
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": entries + others},
                                   allow_unicode=True, sort_keys=False), encoding="utf-8")


def make_config(base: Path, out: Path, tokenizer: str | None, without: list[str],
                overrides: list[str]) -> dict[str, Any]:
    config = yaml.safe_load(base.read_text(encoding="utf-8"))
    pipeline = config["pipeline"]
    if tokenizer:
        index = next(i for i, c in enumerate(pipeline) if "Tokenizer" in c["name"])
        pipeline[index] = dict(TOKENIZERS[tokenizer])
    pipeline[:] = [c for c in pipeline if not any(w in c["name"] for w in without)]
    for item in overrides:  # INDEX.KEY=VALUE, VALUE in YAML
        target, value = item.split("=", 1)
        index, key = target.split(".", 1)
        pipeline[int(index)][key] = yaml.safe_load(value)
    out.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


def folds_of(examples: list[dict[str, str]], k: int, seed: int) -> list[int]:
    """A fold number per example, stratified by (intent, language)."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        groups[(example["intent"], example["lang"])].append(i)
    rng = random.Random(seed)
    fold = [0] * len(examples)
    offset = 0
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for j, i in enumerate(members):
            fold[i] = (offset + j) % k
        offset += len(members)  # spreads the remainders of small groups over the folds
    return fold


def prediction(result: dict[str, Any]) -> dict[str, Any]:
    intent = result.get("intent") or {}
    ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    return {"predicted": intent.get("name"), "confidence": intent.get("confidence"),
            "classifier": ranking[0]["name"] if ranking else intent.get("name"),
            "classifier_confidence": ranking[0]["confidence"] if ranking else None,
            "guard": result.get("emergency_guard")}


def parse_all(agent: Any, texts: list[str]) -> tuple[list[dict[str, Any]], list[float]]:
    import asyncio

    loop = asyncio.new_event_loop()
    out, latencies = [], []
    try:
        for text in texts:
            started = time.perf_counter()
            result = loop.run_until_complete(agent.parse_message(text))
            latencies.append((time.perf_counter() - started) * 1000)
            out.append(prediction(result))
    finally:
        loop.close()
    return out, latencies


def probe(model: str, messages: str) -> dict[str, Any]:
    """Runs in a fresh process: what the bot's Rasa server pays to load and parse."""
    started = time.perf_counter()
    from rasa.core.agent import Agent

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    agent = Agent.load(model)
    load_s = time.perf_counter() - started
    texts = json.loads(Path(messages).read_text(encoding="utf-8"))
    predictions, latencies = parse_all(agent, texts)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"import_s": import_s, "load_s": load_s, "predictions": predictions,
            "latency_ms": latencies, "peak_rss_mb": peak_kb / 1024}


def quiet_rasa() -> None:
    """Rasa's log level as `rasa run` sets it, minus its INFO lines; without this, structlog
    prints a debug line for every parsed message (which also slows parsing down)."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


def log(message: str) -> None:
    print(f"[nlu_eval_rasa] {message}", file=sys.stderr, flush=True)


def cross_validate(config: Path, examples: list[dict[str, str]], others: list[dict[str, Any]],
                   k: int, seed: int, work: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    fold = folds_of(examples, k, seed)
    results: list[dict[str, Any] | None] = [None] * len(examples)
    train_s = []
    for f in range(k):
        train = [e for e, g in zip(examples, fold, strict=True) if g != f]
        test = [i for i, g in enumerate(fold) if g == f]
        data = work / f"fold{f}"
        data.mkdir()
        write_nlu(data / "nlu.yml", train, others)
        log(f"fold {f + 1}/{k}: training on {len(train)}, testing on {len(test)}")
        started = time.perf_counter()
        model = train_nlu(str(config), str(data), str(work / "models"),
                          fixed_model_name=f"fold{f}")
        train_s.append(time.perf_counter() - started)
        if not model:
            raise SystemExit(f"training fold {f} failed")
        agent = Agent.load(model)
        predictions, _ = parse_all(agent, [examples[i]["text"] for i in test])
        for i, p in zip(test, predictions, strict=True):
            results[i] = {**examples[i], **p}
        del agent
        log(f"fold {f + 1}/{k}: trained in {train_s[-1]:.0f} s")
    return {"folds": k, "seed": seed, "train_s": train_s, "predictions": results}


def holdout(config: Path, examples: list[dict[str, str]], others: list[dict[str, Any]],
            work: Path) -> dict[str, Any]:
    from rasa.model_training import train

    data = work / "full"
    data.mkdir()
    write_nlu(data / "nlu.yml", examples, others)
    shutil.copy(ROOT / "nlu" / "data" / "rules.yml", data / "rules.yml")
    log("full model: training on all training data (config, domain, rules: what the bot runs)")
    started = time.perf_counter()
    result = train(str(ROOT / "nlu" / "domain"), str(config), [str(data)], str(work / "models"),
                   fixed_model_name="full")
    train_s = time.perf_counter() - started
    if result.code != 0 or not result.model:
        raise SystemExit("training the full model failed")
    log(f"full model: trained in {train_s:.0f} s")
    tests, _ = read_nlu_file(HOLDOUT)
    questions = [{"text": q["q"], "intent": "ask_question", "lang": q["lang"],
                  "article": q["article"]}
                 for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]]
    messages = work / "holdout.json"
    messages.write_text(json.dumps([t["text"] for t in tests + questions], ensure_ascii=False),
                        encoding="utf-8")
    log(f"probe: loading the model in a fresh process and parsing {len(tests)} holdout "
        f"messages and {len(questions)} questions")
    # The result goes through a file: Rasa's threads may still write to stdout as it exits.
    results = work / "probe.json"
    subprocess.run([sys.executable, __file__, "--probe", result.model, str(messages),
                    str(results)], check=True, stdout=sys.stderr)
    probed = json.loads(results.read_text(encoding="utf-8"))
    parsed = probed["predictions"]
    probed["predictions"] = [{**t, **p} for t, p in zip(tests, parsed[:len(tests)], strict=True)]
    probed["questions"] = [{**q, **p}
                           for q, p in zip(questions, parsed[len(tests):], strict=True)]
    probed["latency_ms"] = probed["latency_ms"][:len(tests)]
    return {"train_s": train_s, "model_mb": Path(result.model).stat().st_size / 2**20, **probed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument("--folds", type=int, default=3, help="0: no cross-validation")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-holdout", action="store_true")
    parser.add_argument("--tokenizer", choices=sorted(TOKENIZERS),
                        help="replace the config's tokenizer (for the comparison)")
    parser.add_argument("--without", action="append", default=[],
                        help="drop pipeline components whose name contains this")
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        metavar="INDEX.KEY=VALUE", help="override a pipeline component's option")
    parser.add_argument("--out", help="write the JSON report here instead of stdout")
    parser.add_argument("--probe", nargs=3, metavar=("MODEL", "MESSAGES_JSON", "OUT_JSON"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.probe:
        with contextlib.redirect_stdout(sys.stderr):
            quiet_rasa()
            model, messages, out = args.probe
            result = probe(model, messages)
        Path(out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return 0

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as scratch:
        work = Path(scratch)
        # A fresh training cache: no fold or model reuses another run's work, so the training
        # times are real.
        os.environ["RASA_CACHE_DIRECTORY"] = str(work / "rasa-cache")
        config_path = work / "config.yml"
        config = make_config(Path(args.config), config_path, args.tokenizer, args.without,
                             args.overrides)
        examples, others = read_training_data()
        report: dict[str, Any] = {"pipeline": config["pipeline"], "examples": len(examples)}
        started = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):
            quiet_rasa()
            # The full model first, so that its training time does not profit from the folds'
            # memo of e5 vectors (see nlu/components/e5_featurizer.py).
            if not args.no_holdout:
                report["holdout"] = holdout(config_path, examples, others, work)
            if args.folds:
                report["cv"] = cross_validate(config_path, examples, others, args.folds,
                                              args.seed, work)
        report["total_s"] = time.perf_counter() - started
    text = json.dumps(report, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
