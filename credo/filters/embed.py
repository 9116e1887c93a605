"""One sentence encoder per run (all-MiniLM-L6-v2, shipped offline), with a per-run cache.

The refusal detector, semantic dedup, contamination and forbidden-request checks all embed
the same prompts and responses; :class:`Embedder` loads the model once and encodes each
distinct text once, so a full audit pays the encoder cost a single time per text.
"""

from __future__ import annotations

import json
import os
import re
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
    L2-normalised float32 rows, each distinct text (by its key) encoded once while cached.

    The cache holds at most ``cache_size`` texts and is emptied when a new call would pass
    that: it saves re-encoding a batch's texts that several checks read, and the texts a
    redundant corpus repeats, without growing with the corpus (a MiniLM row and its key cost
    ~1.9 KB: a worker reading every distinct request-form prompt of ten million records would
    otherwise hold ~1.7 GB of them, BENCHMARKS.md, issue 25)."""

    def __init__(self, model: Any = None, cache_size: int = 32768) -> None:
        self._model = model
        self._cache: dict[str, np.ndarray] = {}
        self.cache_size = cache_size
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
        if len(self._cache) + len(texts) > self.cache_size:  # a new batch: forget the last
            self._cache.clear()
        if len(texts) <= self.cache_size:
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

    def __init__(
        self, config: EmbedConfig | None = None, model: Any = None, cache_size: int = 16384
    ) -> None:
        super().__init__(model, cache_size)
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
        super().__init__(model, cache_size)
        self.max_chars = max_chars
        self._words = WordPieces()  # each word's word-piece ids (see token_ids)

    def _load(self) -> Any:
        return load_static()

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def _key(self, text: str) -> str:
        return text[: self.max_chars]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        model = self.model
        if _plain_mean(model):
            vectors = mean_token_vectors(model, texts, self._table(), self._words)
        else:  # weighted, remapped or quantised tables: model2vec's own path
            vectors = np.asarray(model.encode(texts, use_multiprocessing=False), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def _table(self) -> np.ndarray:
        """The token table widened to float32 once (a look-up per token in float16 costs a
        conversion per token)."""
        if getattr(self, "_wide", None) is None:
            self._wide = np.asarray(self.model.embedding, dtype=np.float32)
        return self._wide


def _plain_mean(model: Any) -> bool:
    """Whether a model2vec model's vectors are the plain mean of its token rows (no token
    weights, no remapping, a float table): then :func:`mean_token_vectors` gives them."""
    return (
        getattr(model, "weights", None) is None
        and getattr(model, "token_mapping", None) is None
        and getattr(model, "embedding", None) is not None
        and np.asarray(model.embedding).dtype in (np.float16, np.float32)
    )


def mean_token_vectors(
    model: Any, texts: Sequence[str], table: np.ndarray, words: WordPieces | None = None
) -> np.ndarray:
    """model2vec's ``encode`` for a plain-mean model, with the mean as one sparse product.

    model2vec gathers every token's row into a (texts, tokens, width) array per length bucket
    and averages it: at 20k answers most of the encoding time, and most of it memory traffic.
    A sparse (texts x vocabulary) count matrix times the table adds the same rows in the same
    order without the gather. The same truncation (characters, then tokens), unknown tokens
    dropped, the mean rounded to the table's dtype and normalised as model2vec does: the
    vectors are model2vec's (tests/test_static_encoding.py). ``words``: see :func:`token_ids`.
    """
    from scipy.sparse import csr_matrix

    if model.max_length is not None:
        cut = model.max_length * model.median_token_length
        texts = [text[:cut] for text in texts]
    ids = token_ids(model, texts, words)
    counts = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    flat = np.fromiter((i for row in ids for i in row), dtype=np.int64, count=int(indptr[-1]))
    tokens = csr_matrix(
        (np.ones(len(flat), dtype=np.float32), flat, indptr), shape=(len(ids), len(table))
    )
    sums = np.asarray(tokens @ table, dtype=np.float32)
    dtype = np.asarray(model.embedding).dtype
    out = (sums / np.maximum(counts, 1)[:, None].astype(np.float32)).astype(dtype)
    if model.normalize:
        wide = out.astype(np.float32)
        out = (wide / (np.linalg.norm(wide, axis=1, keepdims=True) + 1e-32)).astype(dtype)
    return np.asarray(out, dtype=np.float32)


# What BERT's normaliser and pre-tokeniser do to plain ASCII text: lower-case it, then split it
# at whitespace and at every other non-alphanumeric character, each of which is a word alone.
_ASCII_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
# ASCII a BERT normaliser treats otherwise (control characters are dropped, not split at).
_NOT_PLAIN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WORD_CACHE_MAX = 1 << 20


def _plain_bert(model: Any) -> bool:
    """Whether the model's tokeniser is a lower-casing BERT WordPiece (the distilled MiniLM's)."""
    config = getattr(model, "_bert_config", None)
    if config is None:
        spec = json.loads(model.tokenizer.to_str())
        normalizer, pre = spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}
        config = (
            normalizer.get("type") == "BertNormalizer"
            and normalizer.get("lowercase") is True
            and pre.get("type") == "BertPreTokenizer"
            and (spec.get("model") or {}).get("type") == "WordPiece"
        )
        specials = [t["content"] for t in spec.get("added_tokens", [])]
        model._bert_config = config, specials
    return bool(model._bert_config[0])


class WordPieces:
    """Each distinct word's raw word-piece ids (``[UNK]`` kept), and the words holding an
    ``[UNK]``: what :func:`token_ids` keeps between calls (a corpus's vocabulary, not its
    text; cleared past ``WORD_CACHE_MAX`` words)."""

    def __init__(self) -> None:
        self.ids: dict[str, list[int]] = {}
        self.unknown: set[str] = set()

    def learn(self, model: Any, words: list[str]) -> None:
        if len(self.ids) + len(words) > WORD_CACHE_MAX:
            self.ids.clear()
            self.unknown.clear()
        # Raw ids, [UNK] kept: the tokeniser truncates before model2vec drops unknown tokens.
        pieces = model.tokenizer.encode_batch_fast(words, add_special_tokens=False)
        for word, piece in zip(words, pieces):
            self.ids[word] = piece.ids
            if model.unk_token_id in piece.ids:
                self.unknown.add(word)


def token_ids(model: Any, texts: Sequence[str], words: WordPieces | None) -> list[list[int]]:
    """``model.tokenize(texts)``, with WordPiece run once per distinct word.

    A BERT tokeniser splits text into words and word-pieces each word on its own, so for
    plain ASCII text (lower-cased, no control characters, no special-token text) the ids
    are each word's ids in turn, from ``words`` (kept across calls). The tokeniser then
    reads a corpus's vocabulary once instead of its every token: most of the static
    encoding's cost. Any other text goes through the tokeniser itself.
    """
    if words is None or not _plain_bert(model):
        return list(model.tokenize(texts))
    specials = model._bert_config[1]
    split: list[list[str] | None] = []
    for text in texts:
        plain = text.isascii() and not _NOT_PLAIN.search(text)
        if plain and "[" in text and any(s in text for s in specials):
            plain = False
        split.append(_ASCII_WORD.findall(text.lower()) if plain else None)
    known = words.ids
    new = list({w for ws in split if ws is not None for w in ws if w not in known})
    if new:
        words.learn(model, new)
        known = words.ids
    others = [t for t, ws in zip(texts, split) if ws is None]
    other_ids = iter(model.tokenize(others) if others else [])
    unk, limit = model.unk_token_id, model.max_length
    out = []
    for ws in split:
        if ws is None:
            out.append(next(other_ids))
            continue
        ids = [i for w in ws for i in known[w]]
        if limit is not None:
            ids = ids[:limit]
        if words.unknown and not words.unknown.isdisjoint(ws):
            ids = [i for i in ids if i != unk]  # model2vec drops them after truncating
        out.append(ids)
    return out
