"""`make bench-nlu`: Rasa intent accuracy per language (cross-validated and on the holdout),
confusion table, safety metrics, model load time, parse latency and memory → BENCHMARKS.md.

The training and evaluation run in the Rasa environment (bench/nlu_eval_rasa.py under
.venv-rasa/bin/python); this side only turns its JSON into tables.

    python -m bench.nlu                        # config.yml: 3-fold CV + holdout (≈15 min)
    python -m bench.nlu --compare-tokenizers   # the same for each tokenizer (≈45 min)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.report import machine, update_section
from helpdesk.settings import ROOT

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
EVAL_SCRIPT = ROOT / "bench" / "nlu_eval_rasa.py"
LANGUAGE_ORDER = ("en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th", "ne-Latn",
                  "vi-ascii")
INTENT_ORDER = ("greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge",
                "change_language", "ask_question", "request_human", "emergency", "out_of_scope",
                "nlu_fallback")
TOKENIZER_LABELS = {
    "whitespace": "WhitespaceTokenizer (ja/zh/th sentences stay one token; char n-grams only)",
    "char": "ScriptTokenizer `mode: char` (Han/kana/Thai → one token per character)",
    "bigram": "ScriptTokenizer `mode: bigram` (Han/kana/Thai → overlapping character bigrams)",
}
TARGETS = {"accuracy": 0.95, "emergency": 1.0, "request_human": 0.95, "out_of_scope": 0.90}


def run_eval(extra: list[str]) -> dict[str, Any]:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as scratch:
        out = Path(scratch) / "report.json"
        command = [str(RASA_PYTHON), str(EVAL_SCRIPT), *extra, "--out", str(out)]
        print(f"$ {shlex.join(command)}", file=sys.stderr, flush=True)
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=sys.stderr)
        return json.loads(out.read_text(encoding="utf-8"))


def pct(values: Iterable[bool]) -> str:
    values = list(values)
    return f"{100 * sum(values) / len(values):.1f} %" if values else "–"


def ordered(keys: Iterable[str], order: tuple[str, ...]) -> list[str]:
    return sorted(set(keys), key=lambda k: (order.index(k) if k in order else 99, k))


def per_language(predictions: list[dict[str, Any]], title: str) -> list[str]:
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in predictions:
        by_lang[p["lang"]].append(p)
    rows = [f"| {title} | examples | accuracy | classifier top-1 | → nlu_fallback |",
            "|---|---:|---:|---:|---:|"]
    for lang in ordered(by_lang, LANGUAGE_ORDER):
        items = by_lang[lang]
        right = pct(p["predicted"] == p["intent"] for p in items)
        rows.append(f"| {lang} | {len(items)} | {right}"
                    f" | {pct(p['classifier'] == p['intent'] for p in items)} | "
                    f"{sum(p['predicted'] == 'nlu_fallback' for p in items)} |")
    rows.append(f"| **all** | {len(predictions)} | "
                f"**{pct(p['predicted'] == p['intent'] for p in predictions)}** | "
                f"{pct(p['classifier'] == p['intent'] for p in predictions)} | "
                f"{sum(p['predicted'] == 'nlu_fallback' for p in predictions)} |")
    return rows


def per_intent(predictions: list[dict[str, Any]]) -> list[str]:
    rows = ["| intent | examples | recall | precision | → nlu_fallback |",
            "|---|---:|---:|---:|---:|"]
    for intent in ordered((p["intent"] for p in predictions), INTENT_ORDER):
        gold = [p for p in predictions if p["intent"] == intent]
        predicted = [p for p in predictions if p["predicted"] == intent]
        rows.append(f"| {intent} | {len(gold)} | {pct(p['predicted'] == intent for p in gold)} | "
                    f"{pct(p['intent'] == intent for p in predicted)} | "
                    f"{sum(p['predicted'] == 'nlu_fallback' for p in gold)} |")
    return rows


def confusion(predictions: list[dict[str, Any]]) -> list[str]:
    counts = Counter((p["intent"], p["predicted"]) for p in predictions)
    gold = ordered((p["intent"] for p in predictions), INTENT_ORDER)
    columns = ordered([*gold, *(p["predicted"] for p in predictions)], INTENT_ORDER)
    short = {c: c.replace("_", " ") for c in columns}
    rows = ["| gold ↓ / predicted → | " + " | ".join(short[c] for c in columns) + " |",
            "|---|" + "---:|" * len(columns)]
    for g in gold:
        cells = []
        for c in columns:
            n = counts[(g, c)]
            cells.append(f"**{n}**" if g == c else (str(n) if n else "·"))
        rows.append(f"| {g} | " + " | ".join(cells) + " |")
    return rows


def recall(predictions: list[dict[str, Any]], intent: str) -> float:
    gold = [p for p in predictions if p["intent"] == intent]
    return sum(p["predicted"] == intent for p in gold) / len(gold)


def accuracy(predictions: list[dict[str, Any]]) -> float:
    return sum(p["predicted"] == p["intent"] for p in predictions) / len(predictions)


def targets(predictions: list[dict[str, Any]], questions: list[dict[str, Any]]) -> list[str]:
    false_alarms = [p for p in predictions
                    if p["predicted"] == "emergency" and p["intent"] != "emergency"]
    ordinary = [p for p in false_alarms if p["intent"] == "ask_question"]
    lines = ["| holdout metric | target | measured | met |", "|---|---:|---:|:---:|"]
    for label, key, value in (
        ("intent accuracy (all languages)", "accuracy", accuracy(predictions)),
        ("emergency recall", "emergency", recall(predictions, "emergency")),
        ("request_human recall", "request_human", recall(predictions, "request_human")),
        ("out_of_scope recall", "out_of_scope", recall(predictions, "out_of_scope")),
    ):
        lines.append(f"| {label} | ≥ {100 * TARGETS[key]:.0f} % | {100 * value:.1f} % | "
                     f"{'yes' if value >= TARGETS[key] - 1e-9 else 'no'} |")
    non_emergency = sum(p["intent"] != "emergency" for p in predictions)
    lines.append(f"| non-emergency messages classified as emergency | 0 | {len(false_alarms)} of "
                 f"{non_emergency} ({len(ordinary)} of them questions) | "
                 f"{'yes' if not false_alarms else 'no'} |")
    if questions:
        alarmed = [q for q in questions if q["predicted"] == "emergency"]
        lines.append(f"| ordinary questions (bench/data/retrieval_eval.yml) classified as "
                     f"emergency | 0 | {len(alarmed)} of {len(questions)} | "
                     f"{'yes' if not alarmed else 'no'} |")
    return lines


def guard_effect(items: list[dict[str, Any]]) -> str:
    """What the emergency fast path (nlu/components/emergency_guard.py) changed."""
    forced = [p for p in items if (p.get("guard") or {}).get("rule") == "urgent"]
    vetoed = [p for p in items if (p.get("guard") or {}).get("rule") == "hypothetical"]
    if not forced and not vetoed:
        return ""
    rescued = sum(p["guard"].get("overruled") not in (None, "emergency") for p in forced)
    return (f"Emergency fast path on these messages: an urgent term matched {len(forced)} times "
            f"({rescued} of them not already the classifier's top intent); a hypothetical cue "
            f"overruled the classifier's \"emergency\" {len(vetoed)} times "
            f"({sum(p['intent'] != 'emergency' for p in vetoed)} correctly).")


def misses(predictions: list[dict[str, Any]]) -> list[str]:
    wrong = [p for p in predictions if p["predicted"] != p["intent"]]
    wrong.sort(key=lambda p: (INTENT_ORDER.index(p["intent"]) if p["intent"] in INTENT_ORDER
                              else 99, LANGUAGE_ORDER.index(p["lang"])
                              if p["lang"] in LANGUAGE_ORDER else 99))
    return [f"- {p['lang']} `{p['text']}`: {p['intent']} → {p['predicted']}"
            + (f" (classifier: {p['classifier']} {p['classifier_confidence']:.2f})"
               if p["predicted"] == "nlu_fallback" else f" ({p['confidence']:.2f})")
            for p in wrong]


def pipeline_summary(pipeline: list[dict[str, Any]]) -> str:
    parts = []
    for component in pipeline:
        options = ", ".join(f"{k}: {v}" for k, v in component.items() if k != "name")
        parts.append(f"`{component['name'].rsplit('.', 1)[-1]}`" + (f" ({options})" if options
                                                                     else ""))
    return " → ".join(parts)


def percentile(values: list[float], q: float) -> float:
    ordered_values = sorted(values)
    return ordered_values[min(len(ordered_values) - 1, round(q * len(ordered_values)) - 1)]


def render(report: dict[str, Any], command: str, elapsed: float) -> str:
    lines = ["## Rasa NLU (`make bench-nlu`)", "",
             f"Command: `{command}` (runs `.venv-rasa/bin/python bench/nlu_eval_rasa.py "
             f"--folds {report.get('cv', {}).get('folds', 0)}`); {elapsed / 60:.1f} min in all. "
             f"Machine: {machine()}.", "",
             f"Pipeline (config.yml): {pipeline_summary(report['pipeline'])}.", "",
             f"Training data: {report['examples']} examples (nlu/data/nlu/*.yml). Language = the "
             "`# lang` comment above each intent entry; ASCII-only text in a `# ne` block counts "
             "as romanized Nepali (ne-Latn), in a `# vi` block as Vietnamese without accents "
             "(vi-ascii). *accuracy* is the intent the bot acts on (FallbackClassifier applied: "
             "`nlu_fallback` counts as wrong); *classifier top-1* is DIET's best intent before "
             "the fallback threshold.", ""]
    holdout = report.get("holdout")
    if holdout:
        predictions = holdout["predictions"]
        latencies = holdout["latency_ms"]
        lines += ["### Targets (holdout: nlu/tests/nlu_holdout.yml, never trained on)", "",
                  *targets(predictions, holdout.get("questions", [])), "",
                  guard_effect(predictions + holdout.get("questions", [])), "",
                  f"### Holdout ({len(predictions)} messages), model trained on all training "
                  "data", "", *per_language(predictions, "language"), "",
                  *per_intent(predictions), "", "Confusion (holdout):", "",
                  *confusion(predictions), "",
                  "### Load, parse, memory (the full model: config.yml + domain + rules)", "",
                  f"- Training (`rasa.model_training.train`, fresh cache): "
                  f"{holdout['train_s']:.0f} s; model {holdout['model_mb']:.0f} MB",
                  f"- In a fresh process: `import rasa.core.agent` {holdout['import_s']:.1f} s, "
                  f"`Agent.load` {holdout['load_s']:.1f} s",
                  f"- `Agent.parse_message`, one holdout message at a time "
                  f"({len(latencies)}): p50 {statistics.median(latencies):.1f} ms, "
                  f"p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.0f} ms",
                  f"- Peak RSS of that process (load + all parses): "
                  f"{holdout['peak_rss_mb']:.0f} MB", ""]
    cv = report.get("cv")
    if cv:
        predictions = cv["predictions"]
        lines += [f"### {cv['folds']}-fold cross-validation on the training data "
                  f"(stratified by intent × language, seed {cv['seed']})", "",
                  f"Training time per fold (NLU only): "
                  f"{', '.join(f'{s:.0f} s' for s in cv['train_s'])}.", "",
                  *per_language(predictions, "language"), "",
                  *per_intent(predictions), ""]
    if holdout:
        wrong = misses(holdout["predictions"])
        lines += ["<details><summary>Holdout misclassifications "
                  f"({len(wrong)})</summary>", "", *wrong, "", "</details>", ""]
    return "\n".join(lines)


def render_tokenizers(reports: dict[str, dict[str, Any]], command: str) -> str:
    lines = ["## Rasa NLU: tokenizer comparison (`python -m bench.nlu --compare-tokenizers`)", "",
             f"Command: `{command}`. Machine: {machine()}. Everything else as in config.yml; "
             "only the tokenizer is swapped. CV = cross-validation on the training data; "
             "holdout = nlu/tests/nlu_holdout.yml.", ""]
    langs = ("ja", "zh", "th")
    parts = [p for p in ("cv", "holdout") if all(p in r for r in reports.values())]
    header = ["tokenizer"]
    for part in parts:
        label = "CV" if part == "cv" else "holdout"
        header += [f"{label} all", *(f"{label} {lang}" for lang in langs)]
    lines += ["| " + " | ".join([*header, "train s"]) + " |",
              "|---|" + "---:|" * (len(header))]
    for name, report in reports.items():
        cells = [TOKENIZER_LABELS.get(name, name)]
        for part in parts:
            predictions = report[part]["predictions"]
            cells.append(pct(p["predicted"] == p["intent"] for p in predictions))
            for lang in langs:
                cells.append(pct(p["predicted"] == p["intent"] for p in predictions
                                 if p["lang"] == lang))
        cells.append(f"{report['holdout']['train_s']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-nlu")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--compare-tokenizers", action="store_true")
    parser.add_argument("--tokenizers", nargs="+", choices=sorted(TOKENIZER_LABELS),
                        default=list(TOKENIZER_LABELS), help="with --compare-tokenizers")
    parser.add_argument("--reuse", action="append", default=[], metavar="NAME=FILE",
                        help="with --compare-tokenizers: a saved report instead of a new run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--save-json", type=Path, help="also keep the raw results here")
    parser.add_argument("--from-json", type=Path, help="render saved results, run nothing")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    command = f"python -m bench.nlu {shlex.join(given)}".strip()
    started = time.perf_counter()

    if args.compare_tokenizers:
        if args.from_json:
            reports = json.loads(args.from_json.read_text(encoding="utf-8"))
        else:
            reports = {name: run_eval(["--folds", str(args.folds), "--tokenizer", name])
                       for name in args.tokenizers}
        for item in args.reuse:  # NAME=FILE: a report saved by --save-json, same data and code
            name, path = item.split("=", 1)
            reports = {name: json.loads(Path(path).read_text(encoding="utf-8")), **reports}
        if args.save_json:
            args.save_json.write_text(json.dumps(reports, ensure_ascii=False), encoding="utf-8")
        markdown = render_tokenizers(reports, command)
        section = "nlu-tokenizers"
    else:
        if args.from_json:
            report = json.loads(args.from_json.read_text(encoding="utf-8"))
        else:
            report = run_eval(["--folds", str(args.folds)])
        if args.save_json:
            args.save_json.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
        elapsed = report.get("total_s", time.perf_counter() - started)
        markdown = render(report, command, elapsed)
        section = "nlu"
    print(markdown)
    if not args.no_write:
        update_section(section, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
