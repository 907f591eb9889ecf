from __future__ import annotations

import pytest

from bot.language import detect
from bot.residents import decide


@pytest.mark.parametrize(("text", "language"), [
    ("Onde eu pego o saco de lixo da prefeitura?", "pt"),
    ("Tôi cần gia hạn visa thì đi đâu?", "vi"),
    ("gia han visa o dau", "vi"),
    ("राष्ट्रिय स्वास्थ्य बीमा कसरी बनाउने?", "ne"),
    ("visa kasari renew garne", "ne"),
    ("Quiero hablar con una persona, por favor", "es"),
    ("saan ako magbabayad ng buwis", "tl"),
    ("bagaimana cara membuat rekening bank", "id"),
    ("ゴミの日はいつですか", "ja"),
    ("垃圾怎么分类", "zh"),
    ("쓰레기 버리는 날", "ko"),
    ("ขยะทิ้งวันไหน", "th"),
    ("how do I renew my residence card", "en"),
    ("ငါ ဘယ်မှာ အမှိုက်ပစ်ရမလဲ", "my"),
])
def test_detects_served_and_unserved_languages(text: str, language: str) -> None:
    assert detect(text).language == language


def test_short_messages_keep_the_conversation_language() -> None:
    for short in ("ok", "obrigado", "👍", "hi"):
        assert decide(short, None, "pt", "en").answer == "pt"


def test_telegram_language_is_the_prior_for_a_first_unclear_message() -> None:
    assert decide("ok", None, None, "pt-BR").answer == "pt"
    assert decide("ok", None, None, "my").answer == "en"


def test_the_residents_choice_wins() -> None:
    decision = decide("How do I renew my visa?", "vi", "en", "en")
    assert (decision.answer, decision.source) == ("vi", "choice")


def test_unserved_script_is_answered_in_a_served_language() -> None:
    decision = decide("ငါ ဘယ်မှာ အမှိုက်ပစ်ရမလဲ", None, None, None)
    assert decision.written == "my" and decision.answer == "en"


def test_latin_lexicons_are_up_to_date_with_the_training_text() -> None:
    import json

    from bot.lexicon_build import OUTPUT, build

    assert json.loads(OUTPUT.read_text(encoding="utf-8")) == build(), \
        "run `python -m bot.lexicon_build` after changing training data or example questions"
