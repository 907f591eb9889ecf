"""Emergency fast path: a word list that overrules the classifier in both directions.

A statistical classifier misses some emergencies worded unlike its examples, and now and then
calls a disaster-preparedness question an emergency. Neither may happen: a missed emergency
delays 119, and a false one frightens a resident who asked about an earthquake kit. So after
DIET and FallbackClassifier this component looks for the terms in ``emergency_terms.yml``:

* an *urgent* term and no *hypothetical* cue → intent ``emergency`` with confidence 1.0;
* the classifier said ``emergency``, a hypothetical cue is present and no urgent term → the
  next intent in the ranking (usually ``ask_question``) instead.

What matched is added to the parse result as ``emergency_guard`` so that a reviewer can see why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

EMERGENCY = "emergency"
FALLBACK = "nlu_fallback"
TERMS_FILE = Path(__file__).with_name("emergency_terms.yml")
GUARD_KEY = "emergency_guard"


def _is_latin(char: str) -> bool:
    return char < "\u0250" or "\u1e00" <= char <= "\u1eff"


def normalize(text: str) -> str:
    """Lower case; accents dropped from Latin letters only (kana and Hangul must stay whole)."""
    out = []
    for char in text.lower():
        if _is_latin(char):
            out.extend(c for c in unicodedata.normalize("NFD", char)
                       if unicodedata.category(c) != "Mn")
        else:
            out.append(char)
    return "".join(out).replace("đ", "d")


@dataclass(frozen=True)
class Term:
    language: str
    pattern: str
    regex: re.Pattern[str]


def compile_terms(entries: dict[str, list[str]]) -> list[Term]:
    terms = []
    for language, patterns in entries.items():
        for pattern in patterns:
            source = normalize(str(pattern))
            if source.isascii():  # a Latin word or phrase: match whole words only
                source = rf"(?<!\w)(?:{source})(?!\w)"
            terms.append(Term(language, str(pattern), re.compile(source)))
    return terms


def load_terms(path: Path = TERMS_FILE) -> tuple[list[Term], list[Term]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return compile_terms(data["urgent"]), compile_terms(data["hypothetical"])


def first_match(terms: list[Term], text: str) -> Term | None:
    return next((t for t in terms if t.regex.search(text)), None)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
                          is_trainable=False)
class EmergencyGuard(GraphComponent, IntentClassifier):
    """Forces or vetoes the emergency intent from a curated word list (see module doc)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"terms_file": None}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EmergencyGuard:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        path = Path(config["terms_file"]) if config.get("terms_file") else TERMS_FILE
        self.urgent, self.hypothetical = load_terms(path)

    def verdict(self, text: str) -> tuple[Term | None, Term | None]:
        plain = normalize(text)
        return first_match(self.urgent, plain), first_match(self.hypothetical, plain)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and text:
                self._guard(message, text)
        return messages

    def _guard(self, message: Message, text: str) -> None:
        urgent, hypothetical = self.verdict(text)
        intent = message.get(INTENT) or {}
        ranking = list(message.get(INTENT_RANKING_KEY) or [])
        if urgent and not hypothetical:
            if intent.get(INTENT_NAME_KEY) != EMERGENCY:
                forced = {INTENT_NAME_KEY: EMERGENCY, "confidence": 1.0}
                message.set(INTENT, forced, add_to_output=True)
                message.set(INTENT_RANKING_KEY,
                            [forced, *(r for r in ranking if r[INTENT_NAME_KEY] != EMERGENCY)],
                            add_to_output=True)
            message.set(GUARD_KEY, {"rule": "urgent", "language": urgent.language,
                                    "term": urgent.pattern,
                                    "overruled": intent.get(INTENT_NAME_KEY)},
                        add_to_output=True)
        elif hypothetical and not urgent and intent.get(INTENT_NAME_KEY) == EMERGENCY:
            rest = [r for r in ranking if r[INTENT_NAME_KEY] not in (EMERGENCY, FALLBACK)]
            if rest:
                message.set(INTENT, rest[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, rest, add_to_output=True)
            message.set(GUARD_KEY, {"rule": "hypothetical", "language": hypothetical.language,
                                    "term": hypothetical.pattern, "overruled": EMERGENCY},
                        add_to_output=True)
