"""Residence-card numbers, My Numbers and phone numbers never reach logs or analytics."""

from __future__ import annotations

import re

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Residence card: two letters, eight digits, two letters (e.g. AB12345678CD).
    (re.compile(r"\b[A-Za-z]{2}\s?\d{8}\s?[A-Za-z]{2}\b"), "[residence-card]"),
    # My Number: twelve digits, often written 4-4-4.
    (re.compile(r"(?<!\d)\d{4}[\s-]?\d{4}[\s-]?\d{4}(?!\d)"), "[my-number]"),
    # Phone numbers: ten or more digits with optional +, spaces, dashes and brackets.
    (re.compile(r"(?<![\w#])\+?\(?\d(?:[\s\-()]?\d){9,13}(?!\d)"), "[phone]"),
)


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text
