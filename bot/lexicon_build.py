"""Builds word lists that tell the Latin-script languages apart in very short messages.

Statistical detectors know neither romanized Nepali nor Vietnamese typed without accents, and
guess at two-word messages ("ok po", "vlw obg"). The lists are learned from our own training text
only — the NLU training data and the knowledge base's example questions, never the held-out sets:
a word joins a language's list when it occurs in that language's Latin-letter text and in no other
language's. `python -m bot.lexicon_build` rewrites bot/data/latin_lexicons.json; a test fails when
the file is out of date.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from bench.labelled import nlu_examples
from helpdesk.settings import ROOT
from knowledge.articles import load_articles
from knowledge.index import without_diacritics

OUTPUT = Path(__file__).parent / "data" / "latin_lexicons.json"
NLU_TRAINING = ROOT / "nlu" / "data" / "nlu"
LATIN = ("ne", "vi", "en", "pt", "es", "tl", "id")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]{2,}", text.casefold())


def training_texts() -> dict[str, list[str]]:
    """Latin-letter text per language: romanized ne, accentless vi, the other Latin languages."""
    texts: dict[str, list[str]] = {key: [] for key in LATIN}
    examples = [(e.text, e.language) for path in sorted(NLU_TRAINING.glob("*.yml"))
                for e in nlu_examples(path)]
    examples += [(q, language) for article in load_articles()
                 for language, text in article.translations.items() for q in text.questions]
    for text, language in examples:
        if language == "ne" and text.isascii():
            texts["ne"].append(text)
        elif language == "vi":
            texts["vi"].append(without_diacritics(text))
        elif language in LATIN and language != "ne":
            texts[language].append(text)
    return texts


def build() -> dict[str, list[str]]:
    vocabulary = {language: Counter(w for t in texts for w in words(t))
                  for language, texts in training_texts().items()}
    return {language: sorted(w for w in counts
                             if not any(w in vocabulary[other] for other in LATIN
                                        if other != language))
            for language, counts in vocabulary.items()}


def main() -> int:
    lexicons = build()
    OUTPUT.write_text(json.dumps(lexicons, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print({language: len(words) for language, words in lexicons.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
