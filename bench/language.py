"""`make bench-language`: language identification accuracy per language on short messages.

The messages are the held-out NLU set and the held-out retrieval questions (never used to build
the detector's lexicons). Two figures per language: the detector alone on the message, and the
bot's decision for a resident's first message when their Telegram app is set to their language.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

from bench.labelled import Labelled, nlu_examples, retrieval_questions
from bench.report import machine, update_section
from bot.language import detect
from bot.residents import decide

ORDER = ("en", "ja", "pt", "vi", "ne", "es", "tl", "id", "zh", "ko", "th", "ne-Latn", "vi-ascii")


def main() -> int:
    messages: list[Labelled] = nlu_examples() + retrieval_questions()
    alone: dict[str, list[bool]] = defaultdict(list)
    with_prior: dict[str, list[bool]] = defaultdict(list)
    latencies = []
    misses = defaultdict(list)
    for message in messages:
        started = time.perf_counter()
        detected = detect(message.text).language
        latencies.append((time.perf_counter() - started) * 1e6)
        alone[message.variant].append(detected == message.language)
        if detected != message.language:
            misses[message.variant].append(f"{message.text!r}→{detected}")
        decided = decide(message.text, None, None, message.language).written
        with_prior[message.variant].append(decided == message.language)

    rows = ["| language | messages | detector alone | with Telegram's language as prior |",
            "|---|---:|---:|---:|"]
    for variant in sorted(alone, key=lambda v: ORDER.index(v) if v in ORDER else 99):
        rows.append(f"| {variant} | {len(alone[variant])} | {_pct(alone[variant])} | "
                    f"{_pct(with_prior[variant])} |")
    every_alone = [x for v in alone.values() for x in v]
    every_prior = [x for v in with_prior.values() for x in v]
    rows.append(f"| **all** | {len(every_alone)} | **{_pct(every_alone)}** | "
                f"**{_pct(every_prior)}** |")
    report = "\n".join([
        "## Language identification (`make bench-language`)", "",
        f"{len(messages)} short held-out messages (nlu/tests/nlu_holdout.yml and "
        f"bench/data/retrieval_eval.yml). Machine: {machine()}.", "", *rows, "",
        "\"Detector alone\" counts one-word greetings such as \"ok\" or \"hi\", which no detector "
        "can place; the bot keeps the conversation's language or the app's for those.",
        f"- Detection time per message: median {statistics.median(latencies):.0f} µs",
    ])
    print(report)
    for variant, wrong in misses.items():
        print(f"\n{variant} misses ({len(wrong)}): " + ", ".join(wrong[:15]))
    update_section("language", report)
    return 0


def _pct(values: list[bool]) -> str:
    return f"{100 * sum(values) / len(values):.1f} %" if values else "–"


if __name__ == "__main__":
    raise SystemExit(main())
