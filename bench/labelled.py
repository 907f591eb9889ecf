"""Labelled messages for the benchmarks: NLU files (language from their `# xx` comments) and the
retrieval evaluation set."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# Not helpdesk.settings.ROOT: bench/nlu_eval_rasa.py imports this module in Rasa's environment,
# which has neither pydantic-settings nor the app's other packages.
ROOT = Path(__file__).resolve().parents[1]
NLU_HOLDOUT = ROOT / "nlu" / "tests" / "nlu_holdout.yml"
RETRIEVAL_EVAL = ROOT / "bench" / "data" / "retrieval_eval.yml"
_LANGUAGE_COMMENT = re.compile(r"^#\s*([a-z]{2})\s*$")
_INTENT = re.compile(r"^-\s*intent:\s*(\S+)")
_EXAMPLE = re.compile(r"^\s+-\s+(.*\S)\s*$")


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    language: str  # ISO 639-1; romanized Nepali is "ne", accentless Vietnamese "vi"
    variant: str  # the language, or "ne-Latn" / "vi-ascii" for those typed in Latin letters
    intent: str | None = None


def variant_of(text: str, language: str) -> str:
    if text.isascii() and language == "ne":
        return "ne-Latn"
    if text.isascii() and language == "vi":
        return "vi-ascii"
    return language


def nlu_examples(path: Path = NLU_HOLDOUT) -> list[Labelled]:
    """Rasa NLU YAML whose intent blocks each follow a `# xx` language comment."""
    examples: list[Labelled] = []
    language = intent = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _LANGUAGE_COMMENT.match(line):
            language = match.group(1)
        elif match := _INTENT.match(line):
            intent = match.group(1)
        elif (match := _EXAMPLE.match(line)) and language and intent:
            text = match.group(1)
            examples.append(Labelled(text, language, variant_of(text, language), intent))
    return examples


def retrieval_questions(path: Path = RETRIEVAL_EVAL) -> list[Labelled]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return [Labelled(item["q"], item["lang"].split("-")[0], item["lang"]) for item in items]
