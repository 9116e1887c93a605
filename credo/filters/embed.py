"""One sentence encoder per run (all-MiniLM-L6-v2, shipped offline), with a per-run cache.

The refusal detector, semantic dedup, contamination and forbidden-request checks all embed
the same prompts and responses; :class:`Embedder` loads the model once and encodes each
distinct text once, so a full audit pays the encoder cost a single time per text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from credo.errors import missing_dependency
from credo.textnorm import head


@lru_cache(maxsize=1)
def load_minilm(max_seq_length: int = 256) -> Any:
    """The shipped MiniLM, loaded once per process (a load costs seconds; the weights are read-only)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise missing_dependency("sentence-transformers", "embedding checks") from exc
    from credo.embedded import minilm_path

    model = SentenceTransformer(str(minilm_path()), device="cpu")
    model.max_seq_length = max_seq_length
    return model


@dataclass(frozen=True)
class EmbedConfig:
    batch_size: int = 128
    max_chars: int = 1000  # MiniLM reads 256 word pieces; longer text is cut by the model anyway
    max_seq_length: int = 256
    # "auto": ONNX Runtime when installed (2.1x the texts/s, same vectors), else PyTorch
    backend: str = "auto"

    def __str__(self) -> str:
        return f"minilm_b{self.batch_size}_c{self.max_chars}_s{self.max_seq_length}"

    def use_onnx(self) -> bool:
        if self.backend == "auto":
            from credo.filters.minilm_onnx import onnx_available

            return onnx_available() and os.environ.get("CREDO_MINILM_BACKEND", "onnx") != "torch"
        return self.backend == "onnx"


class _CachedEncoder:
    """What both embedders share: a model loaded on first use, and ``encode`` returning
    L2-normalised float32 rows, each distinct text (by its key) encoded once while cached."""

    def __init__(self, model: Any = None) -> None:
        self._model = model
        self._cache: dict[str, np.ndarray] = {}
        self.encoded_texts = 0

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        raise NotImplementedError

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def _key(self, text: str) -> str:
        raise NotImplementedError

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 rows for ``texts``."""
        raise NotImplementedError

    def _remember(self, texts: list[str], vectors: np.ndarray) -> None:
        self._cache.update(zip(texts, vectors))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        known = {k: self._cache[k] for k in keys if k in self._cache}
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            vectors = self._vectors(missing)
            self.encoded_texts += len(missing)
            known.update(zip(missing, vectors))
            self._remember(missing, vectors)
        return np.stack([known[k] for k in keys])


class Embedder(_CachedEncoder):
    """Lazily loaded MiniLM; ``encode`` returns L2-normalised float32 rows."""

    def __init__(self, config: EmbedConfig | None = None, model: Any = None) -> None:
        super().__init__(model)
        self.config = config or EmbedConfig()

    def _load(self) -> Any:
        if self.config.use_onnx():
            from credo.filters.minilm_onnx import OnnxMiniLM

            return OnnxMiniLM(self.config.max_seq_length)
        return load_minilm(self.config.max_seq_length)

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _key(self, text: str) -> str:
        return head(text, self.config.max_chars)  # one canonical form: look-alikes embed alike

    def _vectors(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=self.config.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)


@lru_cache(maxsize=1)
def load_static(path: str | None = None) -> Any:
    """The static (model2vec) model distilled from MiniLM, built on first use (see credo.embedded)."""
    try:
        from model2vec import StaticModel
    except ImportError as exc:
        raise missing_dependency("model2vec", "fast embedding candidates") from exc
    from credo.embedded import static_minilm_path

    return StaticModel.from_pretrained(path or str(static_minilm_path()))


class StaticEmbedder(_CachedEncoder):
    """Static embeddings for candidate generation: a token-vector look-up and a mean.

    Thousands of texts a second on a CPU, so it reads every record; MiniLM then reads only
    the candidates it proposes. The cache holds about the last batch's texts (semantic dedup
    and contamination read the same prompts and answer heads of a batch), never a corpus:
    at a million records a cache of every vector would cost more memory than re-encoding.
    """

    def __init__(self, model: Any = None, max_chars: int = 1000, cache_size: int = 32768) -> None:
        super().__init__(model)
        self.max_chars = max_chars
        self.cache_size = cache_size

    def _load(self) -> Any:
        return load_static()

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def _key(self, text: str) -> str:
        return text[: self.max_chars]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.model.encode(texts, use_multiprocessing=False), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _remember(self, texts: list[str], vectors: np.ndarray) -> None:
        if len(self._cache) + len(texts) > self.cache_size:  # a new batch: forget the last
            self._cache.clear()
        if len(texts) <= self.cache_size:
            super()._remember(texts, vectors)
