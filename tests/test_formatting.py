from __future__ import annotations

from bot import callbacks
from bot.formatting import TELEGRAM_LIMIT, split_html, to_outgoing, visible_length
from bot.rasa_client import collect_meta


def test_rasa_paragraphs_are_one_reply_and_buttons_close_it() -> None:
    messages = [{"text": "<b>Title</b>\nanswer"}, {"text": "📍 where"},
                {"text": "Is it one of these?", "buttons": [{"title": "A", "payload": "/a"}]},
                {"text": "after"}]
    replies = to_outgoing(messages)
    assert [r.html for r in replies] == ["<b>Title</b>\nanswer\n\n📍 where\n\nIs it one of these?",
                                        "after"]
    assert replies[0].buttons == [("A", "/a")]


def test_long_replies_are_split_below_the_limit_without_breaking_tags() -> None:
    paragraph = "<b>Heading</b> " + "word " * 300
    html = "\n\n".join([paragraph] * 12)
    chunks = split_html(html)
    assert len(chunks) > 1
    assert all(visible_length(c) < TELEGRAM_LIMIT for c in chunks)
    assert all(c.count("<b>") == c.count("</b>") for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == html.replace("\n", "").replace(
        " ", "")


def test_a_single_huge_word_is_still_cut() -> None:
    chunks = split_html("x" * 10000)
    assert [len(c) for c in chunks] == [3900, 3900, 2200]


def test_meta_is_taken_out_of_what_the_resident_sees() -> None:
    shown, meta = collect_meta([{"text": "hi"}, {"custom": {"meta": {"articles": ["a"],
                                                                      "emergency": True}}},
                                {"custom": {"meta": {"articles": ["a", "b"]}}}])
    assert shown == [{"text": "hi"}]
    assert meta == {"articles": ["a", "b"], "emergency": True}


def test_callback_data_is_bounded_and_tampering_is_refused() -> None:
    assert callbacks.encode("rasa", "/affirm") == "rasa|/affirm"
    assert callbacks.encode("rasa", "/x" * 40) is None
    assert callbacks.decode("rasa|/affirm") == callbacks.Callback("rasa", "/affirm")
    for tampered in (None, "", "nonsense", "evil|x", "lang|"):
        assert callbacks.decode(tampered) is None
