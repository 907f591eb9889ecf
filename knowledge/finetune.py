"""Fine-tune the converted multilingual-e5-small on the knowledge base's own example questions.

Training pairs come from the knowledge base only: an example question (or a title) is the anchor,
and another text of the same article in any language is the positive (an example question, the
title or the answer). MultipleNegativesRankingLoss treats every other positive in the batch as a
negative, so each batch holds at most one pair per article.

Texts get e5's prefixes exactly as `knowledge.index` embeds them: "query: " for questions and
titles, "passage: " for answers.

    python -m knowledge.finetune --base /tmp/e5base --out var/models/e5-kb            # final
    python -m knowledge.finetune --base /tmp/e5base --out /tmp/e5-dev --dev           # dev split

`--dev` holds out one example question per article and language (romanized Nepali and
accentless Vietnamese count as their own groups), trains on the rest and reports top-1/top-3 on
the held-out questions against an index that lacks them: the way to choose hyperparameters
without touching bench/data/retrieval_eval.yml.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import re
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.articles import Article, TextStatus, Translation, load_articles
from knowledge.index import ArticleIndex, without_diacritics

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
INFO_FILE = "finetune.json"

DEFAULT_EPOCHS = 2
DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATE = 3e-5
# Which kind of text a positive is drawn from. Example questions make up most index entries, so
# they get the largest share. Answers are ~135 tokens against ~15 for a question and cost most
# of a step's time, so they are drawn rarely: enough to keep passages in the same space.
POSITIVE_KINDS = (("question", 0.6), ("title", 0.3), ("answer", 0.1))
# Share of anchors replaced by their lower-case, punctuation-free form: residents often type so.
PLAIN_SHARE = 0.25
# Share of derived anchors (accentless Vietnamese, romanized Nepali) paired with the very text
# they were derived from, which ties the way residents type to the way the KB is written.
SOURCE_SHARE = 0.5

_DEVANAGARI = re.compile("[\u0900-\u097f]")
_SPACES = re.compile(r"\s+")


# ------------------------------------------------------------------ text variants


def question_group(language: str, text: str) -> str:
    """The evaluation group of an example question, split like bench/data/retrieval_eval.yml."""
    if language == "ne" and not _DEVANAGARI.search(text):
        return "ne-Latn"
    if language == "vi" and without_diacritics(text) == text:
        return "vi-ascii"
    return language


def plain(text: str) -> str:
    """Lower case without punctuation, as many residents type on a phone."""
    kept = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text.lower())
    return _SPACES.sub(" ", kept).strip()


_VOWELS = {"अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri", "ए": "e",
           "ऐ": "ai", "ओ": "o", "औ": "au"}
_MATRAS = {"ा": "a", "ि": "i", "ी": "i", "ु": "u", "ू": "u", "ृ": "ri", "े": "e", "ै": "ai",
           "ो": "o", "ौ": "au", "ॅ": "e", "ॉ": "o"}
# Informal chat spelling, not ISO 15919: long and short vowels alike, छ as "ch" and व as "b"
# ("parcha", "barsa"), which is how the knowledge base's own romanized questions are written.
_CONSONANTS = {"क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "ng", "च": "ch", "छ": "ch",
               "ज": "j", "झ": "jh", "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n",
               "त": "t", "थ": "th", "द": "d", "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b",
               "भ": "bh", "म": "m", "य": "y", "र": "r", "ल": "l", "व": "b", "श": "s", "ष": "s",
               "स": "s", "ह": "h", "ड़": "r", "ढ़": "rh", "फ़": "f", "ज़": "z"}
_SIGNS = {"ं": "n", "ँ": "", "ः": "h", "।": ".", "॥": "."}
_VIRAMA, _NUKTA = "्", "़"
_DIGITS = {chr(0x0966 + i): str(i) for i in range(10)}


def romanize_devanagari(text: str) -> str:
    """Nepali in Devanagari as residents type it in Latin letters ("kasari garne", "parcha").

    A consonant carries an inherent "a" unless a vowel sign or virama follows; at the end of a
    word of more than one syllable that "a" is dropped ("म्याद" → "myad"), except after a
    conjunct, where Nepali keeps it ("पर्छ" → "parcha").
    """
    out: list[str] = []
    pending = False  # the last consonant still waits to learn whether it carries "a"
    cluster = False  # that consonant follows a virama
    after_virama = False
    syllables = 0

    def settle(at_word_end: bool) -> None:
        nonlocal pending, syllables
        if pending and not (at_word_end and syllables > 0 and not cluster):
            out.append("a")
            syllables += 1
        pending = False

    for char in unicodedata.normalize("NFC", text):
        if char in _CONSONANTS:
            settle(at_word_end=False)
            cluster, after_virama, pending = after_virama, False, True
            out.append(_CONSONANTS[char])
        elif char == _NUKTA and out:
            continue  # precomposed nukta letters are in the table; a stray one changes little
        elif char in _MATRAS:
            pending, after_virama = False, False
            out.append(_MATRAS[char])
            syllables += 1
        elif char == _VIRAMA:
            pending, after_virama = False, True
        elif char in _VOWELS:
            settle(at_word_end=False)
            out.append(_VOWELS[char])
            syllables += 1
        elif char in _SIGNS:
            settle(at_word_end=False)
            out.append(_SIGNS[char])
        else:
            settle(at_word_end=True)
            after_virama, syllables = False, 0
            out.append(_DIGITS.get(char, char))
    settle(at_word_end=True)
    return "".join(out)


# ------------------------------------------------------------------ training data


@dataclass(frozen=True, slots=True)
class Anchor:
    article_id: str
    text: str
    source: str  # the knowledge-base text it came from, never drawn as its own positive


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str  # "question" | "title" | "answer"
    language: str
    text: str


@dataclass(frozen=True, slots=True)
class Pair:
    article_id: str
    anchor: str  # prefixed
    positive: str  # prefixed
    long: bool  # the positive is an answer: embedded apart so it does not pad short texts


@dataclass(frozen=True, slots=True)
class DevQuestion:
    article_id: str
    group: str
    text: str


def _served(article: Article) -> list[tuple[str, Translation]]:
    return [(language, text) for language, text in sorted(article.translations.items())
            if text.status is not TextStatus.MISSING]


def anchors_for(article: Article, *, romanize: bool) -> list[Anchor]:
    """Example questions and titles, plus the variants residents type that the KB lacks."""
    anchors = []
    for language, text in _served(article):
        for short in (text.title, *text.questions):
            anchors.append(Anchor(article.id, short, short))
            if language == "vi" and without_diacritics(short) != short:
                anchors.append(Anchor(article.id, without_diacritics(short), short))
            if romanize and language == "ne" and _DEVANAGARI.search(short):
                anchors.append(Anchor(article.id, romanize_devanagari(short), short))
    return anchors


def candidates_for(article: Article) -> dict[str, list[Candidate]]:
    pool: dict[str, list[Candidate]] = defaultdict(list)
    for language, text in _served(article):
        pool["title"].append(Candidate("title", language, text.title))
        pool["answer"].append(Candidate("answer", language, text.answer))
        pool["question"].extend(Candidate("question", language, q) for q in text.questions)
    return pool


def epoch_pairs(articles: Sequence[Article], rng: random.Random, *, romanize: bool) -> list[Pair]:
    """One positive per anchor, drawn afresh each epoch so that every pairing is seen in time."""
    kinds, weights = zip(*POSITIVE_KINDS, strict=True)
    pairs = []
    for article in articles:
        pool = candidates_for(article)
        for anchor in anchors_for(article, romanize=romanize):
            kind = rng.choices(kinds, weights)[0]
            choices = [c for c in pool[kind] if c.text != anchor.source]
            if not choices:
                choices = list(pool["answer"])
            positive = rng.choice(choices)
            if anchor.text != anchor.source and rng.random() < SOURCE_SHARE:
                positive = Candidate("question", "", anchor.source)
            text = plain(anchor.text) if rng.random() < PLAIN_SHARE else anchor.text
            prefix = PASSAGE_PREFIX if positive.kind == "answer" else QUERY_PREFIX
            pairs.append(Pair(article.id, QUERY_PREFIX + (text or anchor.text),
                              prefix + positive.text, positive.kind == "answer"))
    return pairs


def distinct_article_batches(pairs: Sequence[Pair], batch_size: int,
                             rng: random.Random) -> list[list[Pair]]:
    """Batches in which no two pairs share an article.

    In-batch negatives are only negatives if they belong to another article; two questions of
    one article in a batch would teach the model to push them apart. Articles with the most
    pairs left are served first, so batches stay full until the very end.
    """
    queues: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        queues[pair.article_id].append(pair)
    for queue in queues.values():
        rng.shuffle(queue)
    order = {article_id: rng.random() for article_id in queues}  # breaks ties at random
    batches = []
    while any(queues.values()):
        busiest = sorted((a for a in queues if queues[a]),
                         key=lambda a: (-len(queues[a]), order[a]))[:batch_size]
        batch = [queues[a].pop() for a in busiest]
        if len(batch) > 1:  # a lone pair has no negative to learn from
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def split_dev(articles: Sequence[Article],
              seed: int = 0) -> tuple[list[Article], list[DevQuestion]]:
    """Hold out one example question per article and group (where two or more exist)."""
    train, dev = [], []
    for article in articles:
        rng = random.Random(f"{seed}:{article.id}")
        translations = {}
        for language, text in sorted(article.translations.items()):
            groups: dict[str, list[str]] = defaultdict(list)
            for question in text.questions:
                groups[question_group(language, question)].append(question)
            held = {rng.choice(qs): g for g, qs in sorted(groups.items()) if len(qs) > 1}
            dev.extend(DevQuestion(article.id, g, q) for q, g in held.items())
            kept = [q for q in text.questions if q not in held]
            translations[language] = text.model_copy(update={"questions": kept})
        train.append(article.model_copy(update={"translations": translations}))
    return train, dev


# ------------------------------------------------------------------ training


def _embed(model: SentenceTransformer, texts: Sequence[str]) -> torch.Tensor:
    features = model.preprocess(list(texts))
    return model(features)["sentence_embedding"]


def _embed_pairs(model: SentenceTransformer,
                 batch: Sequence[Pair]) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    anchors = _embed(model, [p.anchor for p in batch])
    # Answers run to ~200 tokens, questions to ~20: one forward for both would pad every
    # question to the longest answer and cost several times as much.
    short = [i for i, p in enumerate(batch) if not p.long]
    long = [i for i, p in enumerate(batch) if p.long]
    positives = torch.empty_like(anchors)
    for rows in (short, long):
        if rows:
            positives[rows] = _embed(model, [batch[i].positive for i in rows])
    return anchors, positives


def _linear_schedule(total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # Dropout masks and CPU kernels then repeat exactly for the same seed and thread count.
    torch.use_deterministic_algorithms(True, warn_only=True)


def finetune(base_dir: Path, out_dir: Path, *, epochs: int = DEFAULT_EPOCHS, seed: int = 0,
             batch_size: int = DEFAULT_BATCH_SIZE, learning_rate: float = DEFAULT_LEARNING_RATE,
             warmup_share: float = 0.1, scale: float = 20.0, romanize: bool = True,
             freeze_embeddings: bool = True, articles: Sequence[Article] | None = None) -> Path:
    """Train a copy of the sentence-transformers model in `base_dir` and save it to `out_dir`.

    `articles` defaults to the whole knowledge base; pass a subset (or the training half of
    `split_dev`) to train on less.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    base_dir, out_dir = Path(base_dir), Path(out_dir)
    if out_dir.resolve() == base_dir.resolve():
        raise ValueError("out_dir must differ from base_dir; the base model is kept as it is")
    articles = list(articles) if articles is not None else load_articles()
    started, cpu_started = time.perf_counter(), time.process_time()
    _seed_everything(seed)
    rng = random.Random(seed)
    model = SentenceTransformer(str(base_dir), device="cpu", local_files_only=True)
    if freeze_embeddings:
        # 96 M of e5-small's 118 M parameters are the 250 k-piece vocabulary. The KB touches a
        # few thousand pieces; updating the rest only costs time, and freezing keeps words the
        # KB never uses where pre-training put them.
        for name, parameter in model.named_parameters():
            if "word_embeddings" in name:
                parameter.requires_grad_(False)
    loss_fn = MultipleNegativesRankingLoss(model, scale=scale)

    epoch_batches = [distinct_article_batches(epoch_pairs(articles, rng, romanize=romanize),
                                              batch_size, rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _linear_schedule(total, max(1, int(total * warmup_share))))
    logger.info("%d articles, %d steps of ≤%d pairs over %d epochs", len(articles), total,
                batch_size, epochs)

    model.train()
    step = 0
    for epoch, batches in enumerate(epoch_batches, start=1):
        losses = []
        for batch in batches:
            anchors, positives = _embed_pairs(model, batch)
            loss = loss_fn.compute_loss_from_embeddings([anchors, positives], None)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            if step % 20 == 0 or step == total:
                logger.info("step %d/%d loss %.3f (%.0f s)", step, total,
                            float(np.mean(losses[-20:])), time.perf_counter() - started)
        logger.info("epoch %d: mean loss %.3f", epoch, float(np.mean(losses)))
    model.eval()

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir), create_model_card=False)
    seconds = time.perf_counter() - started
    info = {
        "base": str(base_dir),
        "epochs": epochs, "seed": seed, "batch_size": batch_size,
        "learning_rate": learning_rate, "warmup_share": warmup_share, "scale": scale,
        "romanize": romanize, "freeze_embeddings": freeze_embeddings,
        "positive_kinds": dict(POSITIVE_KINDS), "plain_share": PLAIN_SHARE,
        "source_share": SOURCE_SHARE,
        "articles": len(articles), "steps": total, "knowledge_digest": _digest(articles),
        "torch_threads": torch.get_num_threads(), "seconds": round(seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    logger.info("wrote %s in %.0f s", out_dir, seconds)
    return out_dir


def _digest(articles: Sequence[Article]) -> str:
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(article.model_dump_json().encode())
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------ dev evaluation


def evaluate(model_dir: Path, articles: Sequence[Article],
             questions: Sequence[DevQuestion]) -> dict[str, tuple[int, float, float]]:
    """Top-1 and top-3 per group (and "all") with the index the help desk itself builds."""
    from knowledge.embedder import load_embedder

    embedder = load_embedder(str(model_dir))
    index = ArticleIndex.build(list(articles), embedder)
    vectors = embedder.queries([q.text for q in questions])
    results: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for question, vector in zip(questions, vectors, strict=True):
        ranked = [hit.article_id for hit in index.search(vector, k=3)]
        hit = (ranked[:1] == [question.article_id], question.article_id in ranked)
        results[question.group].append(hit)
        results["all"].append(hit)
    return {group: (len(hits), 100 * float(np.mean([h[0] for h in hits])),
                    100 * float(np.mean([h[1] for h in hits])))
            for group, hits in results.items()}


def format_scores(scores: dict[str, dict[str, tuple[int, float, float]]]) -> str:
    names = list(scores)
    groups = sorted({g for s in scores.values() for g in s}, key=lambda g: (g == "all", g))
    lines = ["| group | n | " + " | ".join(f"{n} top-1 | {n} top-3" for n in names) + " |"]
    for group in groups:
        cells = [scores[n].get(group, (0, float("nan"), float("nan"))) for n in names]
        lines.append(f"| {group} | {cells[0][0]} | "
                     + " | ".join(f"{c[1]:.1f} | {c[2]:.1f}" for c in cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------ command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True,
                        help="sentence-transformers copy of e5 (python -m knowledge.e5_convert)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--lr", type=float, default=DEFAULT_LEARNING_RATE)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--romanize", action=argparse.BooleanOptionalAction, default=True,
                        help="add romanized copies of Devanagari questions as anchors")
    parser.add_argument("--freeze-embeddings", action=argparse.BooleanOptionalAction,
                        default=True)
    parser.add_argument("--dev", action="store_true",
                        help="train without one question per article and group; report dev scores")
    parser.add_argument("--dev-baseline", action="store_true",
                        help="with --dev, also score the base model on the dev split")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Read by OpenMP when torch loads, so it must be set before the first torch import. With
    # spinning threads a training step took 35 s instead of 5 s whenever another process held
    # one of this machine's two cores; sleeping threads cost almost nothing when it is idle.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    articles = load_articles()
    dev: list[DevQuestion] = []
    if args.dev:
        articles, dev = split_dev(articles, args.seed)
        logger.info("dev split: %d held-out questions", len(dev))
    finetune(args.base, args.out, epochs=args.epochs, seed=args.seed,
             batch_size=args.batch_size, learning_rate=args.lr, scale=args.scale,
             romanize=args.romanize, freeze_embeddings=args.freeze_embeddings,
             articles=articles)
    if args.dev:
        scores = {}
        if args.dev_baseline:
            scores["base"] = evaluate(args.base, articles, dev)
        scores["tuned"] = evaluate(args.out, articles, dev)
        report = format_scores(scores)
        print(report)
        info_path = args.out / INFO_FILE
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["dev"] = {name: {g: list(v) for g, v in s.items()} for name, s in scores.items()}
        info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
