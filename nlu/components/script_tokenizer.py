"""A tokenizer for the help desk's mix of scripts, some of which are written without spaces.

Japanese, Chinese and Thai (and Lao, Khmer, Myanmar) runs are cut into characters (with their
combining marks) or into overlapping character bigrams; every other script is split on whitespace
and punctuation like Rasa's WhitespaceTokenizer.  ``火事です!助けて`` → ``火 事 で す 助 け て``
(``mode: char``) or ``火事 事で です 助け けて`` (``mode: bigram``).
"""

from __future__ import annotations

import itertools
from typing import Any

import regex
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message

# Scripts written without spaces between words, plus the kana iteration/length marks.
NO_SPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\u30fc\u3005\u3006"
_TOKEN = regex.compile(
    # one character of a no-space script with the marks that belong to it (Thai vowels, tones)
    rf"(?P<unit>[{NO_SPACE}]\p{{M}}*)"
    # or a word: letters, digits and marks of the other scripts, keeping e-mail/URL/number
    # punctuation and apostrophes inside a word (don't, 10.000, a@b.jp)
    rf"|(?P<word>(?:(?![{NO_SPACE}])\w)+(?:['’.,:/@&\-](?:(?![{NO_SPACE}])\w)+)*)"
)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class ScriptTokenizer(Tokenizer):
    """Whitespace tokenization, with character (or bigram) tokens for ja, zh and th."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # "char": one token per character of a no-space script; "bigram": overlapping pairs
            "mode": "char",
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        return None  # every language: that is the point

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.mode = config.get("mode", "char")
        if self.mode not in ("char", "bigram"):
            raise InvalidConfigException(
                f"ScriptTokenizer: mode must be 'char' or 'bigram', not {self.mode!r}"
            )

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        tokens = split(text, self.mode)
        if not tokens:  # only punctuation or emoji: keep the text as one token, as Rasa does
            tokens = [Token(text, 0)]
        return self._apply_token_pattern(tokens)


def split(text: str, mode: str = "char") -> list[Token]:
    """The tokens of `text` (also used by the tests, without a Rasa message)."""
    tokens: list[Token] = []
    run: list[Token] = []  # adjacent no-space characters, waiting to become bigrams

    def flush() -> None:
        if mode == "bigram" and len(run) > 1:
            for left, right in itertools.pairwise(run):
                tokens.append(Token(text[left.start:right.end], left.start, right.end))
        else:
            tokens.extend(run)
        run.clear()

    for match in _TOKEN.finditer(text):
        token = Token(match.group(), match.start(), match.end())
        if match.group("unit") is not None:
            if run and run[-1].end != token.start:
                flush()
            run.append(token)
        else:
            flush()
            tokens.append(token)
    flush()
    return tokens
