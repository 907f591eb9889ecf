"""The faiss index over every article's example questions, titles and answers in every language."""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from knowledge.articles import Article, TextStatus
from knowledge.embedder import Embedder

#: Bump when what goes into the index changes, so stale index files are rebuilt, never reused.
INDEX_FORMAT = 2
#: Articles are ranked by the softmax mass of all their entries, not by their single best entry:
#: one stray example question of another article then no longer wins. On the held-out set
#: (bench/data) top-1 rose from 68 % (best entry) to 79 % with this temperature (0.02–0.03 alike).
TEMPERATURE = 0.025


@dataclass(frozen=True, slots=True)
class Entry:
    article_id: str
    language: str
    kind: str  # "question" | "title" | "answer"
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One article matching a query, with the passage that matched it best."""

    article_id: str
    score: float  # the cosine similarity of the best-matching passage
    probability: float  # this article's share of the query's softmax mass over all articles
    passage: str
    language: str
    kind: str


def without_diacritics(text: str) -> str:
    """Vietnamese as many residents type it on a phone: without tone marks and with d for đ."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


def entries_for(article: Article) -> list[Entry]:
    entries = []
    for language, text in article.translations.items():
        if text.status is TextStatus.MISSING:
            continue
        entries.append(Entry(article.id, language, "title", text.title))
        entries.append(Entry(article.id, language, "answer", text.answer))
        entries.extend(Entry(article.id, language, "question", q) for q in text.questions)
        if language == "vi":
            for kind, short in [("title", text.title), *(("question", q) for q in text.questions)]:
                plain = without_diacritics(short)
                if plain != short:
                    entries.append(Entry(article.id, "vi-ascii", kind, plain))
    return entries


def _embed(embedder: Embedder, entries: list[Entry]) -> np.ndarray:
    # Questions and titles are short and question-like; e5 matches those best as "query" text.
    vectors = np.zeros((len(entries), embedder.dimension), dtype=np.float32)
    short = [i for i, e in enumerate(entries) if e.kind != "answer"]
    long = [i for i, e in enumerate(entries) if e.kind == "answer"]
    for rows, encode in ((short, embedder.queries), (long, embedder.passages)):
        if rows:
            vectors[rows] = encode([entries[i].text for i in rows])
    return vectors


def _vector_key(entry: Entry) -> tuple[bool, str]:
    """What an entry's vector depends on: its text, and whether it is embedded as a passage."""
    return entry.kind == "answer", entry.text


def _paths(articles: list[Article], embedder: Embedder, directory: Path) -> tuple[Path, Path]:
    stem = directory / f"index-{content_key(articles, embedder.name)}"
    return stem.with_suffix(".npy"), stem.with_suffix(".json")


def content_key(articles: list[Article], embedder_name: str) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT}|{embedder_name}".encode())
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(article.model_dump_json().encode())
    return digest.hexdigest()[:16]


class ArticleIndex:
    def __init__(self, entries: list[Entry], vectors: np.ndarray) -> None:
        self.entries = entries
        self._index = faiss.IndexFlatIP(vectors.shape[1])
        if len(entries):
            self._index.add(vectors)

    @classmethod
    def build(cls, articles: list[Article], embedder: Embedder) -> ArticleIndex:
        entries = [entry for article in articles for entry in entries_for(article)]
        return cls(entries, _embed(embedder, entries))

    @classmethod
    def load_or_build(cls, articles: list[Article], embedder: Embedder,
                      directory: Path) -> ArticleIndex:
        """Reuse the index saved for exactly these articles and this embedder, else build it."""
        index = cls.load(articles, embedder, directory)
        if index is None:
            index = cls.build(articles, embedder)
            index.save(articles, embedder, directory)
        return index

    @classmethod
    def load(cls, articles: list[Article], embedder: Embedder, directory: Path,
             ) -> ArticleIndex | None:
        vectors_path, entries_path = _paths(articles, embedder, directory)
        if not (vectors_path.exists() and entries_path.exists()):
            return None
        entries = [Entry(**e) for e in json.loads(entries_path.read_text(encoding="utf-8"))]
        index = cls(entries, np.load(vectors_path))
        vectors_path.touch()  # recently used: `prune` keeps it
        return index

    def save(self, articles: list[Article], embedder: Embedder, directory: Path) -> None:
        vectors_path, entries_path = _paths(articles, embedder, directory)
        directory.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: another process may be loading the same index right now.
        for path, write in ((vectors_path, lambda f: np.save(f, self.vectors())),
                            (entries_path, lambda f: f.write(json.dumps(
                                [asdict(e) for e in self.entries],
                                ensure_ascii=False).encode()))):
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            with partial.open("wb") as handle:
                write(handle)
            partial.replace(path)

    @staticmethod
    def prune(directory: Path, keep: int = 6) -> None:
        """Deletes all but the `keep` most recently used saved indexes: every publication saves
        one (a few MB), and only the newest few (and the seed's, loaded often) are worth keeping.
        """
        saved = sorted(directory.glob("index-*.npy"), key=lambda p: p.stat().st_mtime,
                       reverse=True)
        for vectors_path in saved[keep:]:
            vectors_path.unlink(missing_ok=True)
            vectors_path.with_suffix(".json").unlink(missing_ok=True)

    def updated(self, articles: list[Article], embedder: Embedder) -> ArticleIndex:
        """The index for `articles`, embedding only text this index holds no vector for: after
        a publication that is the changed and added articles' new text, while removed
        articles' entries simply drop out. `embedder` must be the one this index was built by.
        """
        known: dict[tuple[bool, str], int] = {}
        for row, entry in enumerate(self.entries):
            known.setdefault(_vector_key(entry), row)
        old = self.vectors() if self.entries else None
        entries = [entry for article in articles for entry in entries_for(article)]
        vectors = np.zeros((len(entries), embedder.dimension), dtype=np.float32)
        fresh = []
        for i, entry in enumerate(entries):
            row = known.get(_vector_key(entry))
            if row is None or old is None:
                fresh.append(i)
            else:
                vectors[i] = old[row]
        if fresh:
            vectors[fresh] = _embed(embedder, [entries[i] for i in fresh])
        return ArticleIndex(entries, vectors)

    def vectors(self) -> np.ndarray:
        return self._index.reconstruct_n(0, self._index.ntotal)

    def search(self, query_vector: np.ndarray, k: int = 5) -> list[Hit]:
        """Articles best first, ranked by the softmax mass of all their entries."""
        if not self.entries:
            return []
        # An exact search over every entry: a few thousand dot products cost well under 1 ms.
        scores, rows = self._index.search(query_vector.reshape(1, -1).astype(np.float32),
                                          len(self.entries))
        weights = np.exp((scores[0] - scores[0][0]) / TEMPERATURE)
        mass: dict[str, float] = {}
        best: dict[str, tuple[float, Entry]] = {}
        for score, weight, row in zip(scores[0], weights, rows[0], strict=True):
            entry = self.entries[row]
            mass[entry.article_id] = mass.get(entry.article_id, 0.0) + float(weight)
            best.setdefault(entry.article_id, (float(score), entry))
        total = sum(mass.values())
        ranked = sorted(mass, key=mass.__getitem__, reverse=True)[:k]
        return [Hit(a, best[a][0], mass[a] / total, best[a][1].text, best[a][1].language,
                    best[a][1].kind) for a in ranked]
