"""The static path's shortcuts change nothing: model2vec's token ids and vectors, the exact
search's pairs, and the semantic check's findings on a fixed corpus of real sentences.

The static model here is MiniLM's token table (see conftest): the same BERT tokeniser and
model2vec code as the distilled model, a float32 table instead of a float16 one.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from credo.filters import ann
from credo.filters.ann import AnnConfig, exact_pairs
from credo.filters.base import AuditContext
from credo.filters.dedup import SemanticConfig, SemanticDuplicateCheck
from credo.filters.embed import (
    StaticEmbedder,
    WordPieces,
    load_static,
    mean_token_vectors,
    token_ids,
)
from credo.types import Message, Record

FIXTURE = Path(__file__).parent / "fixtures" / "xstest" / "xstest_sample.jsonl"
TRICKY = [
    "",
    "a",
    "Hello [UNK] world and [SEP]",
    "x" * 150 + " a word longer than WordPiece reads",
    "tab\there\x0bvertical tab\x7fdelete",
    "don't, can't! 3.14 $5 a_b c-d e--f (g) [h] {i} <j> @k #l ~m ^n |o \\p",
    "École, café, naïve: accents",
    "a  b\n\nc\r\nd",
    " ".join(["word"] * 700),  # past the tokeniser's truncation, where it truncates
    " ".join(["y" * 120] * 600),  # unknown words past the truncation
]


def _fixture_texts() -> list[str]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return [r["request"] for r in rows] + [r["response"] for r in rows]


@pytest.fixture(scope="module")
def model() -> object:
    pytest.importorskip("model2vec")
    return load_static()


def test_token_ids_are_the_tokenisers(model: object) -> None:
    texts = _fixture_texts() + TRICKY
    expected = [list(ids) for ids in model.tokenize(texts)]  # type: ignore[attr-defined]
    words = WordPieces()
    assert token_ids(model, texts, words) == expected
    assert token_ids(model, texts[::-1], words) == expected[::-1]  # from the cache alone
    assert words.ids and "x" * 150 in words.unknown  # a word WordPiece cannot split


def test_mean_token_vectors_are_model2vecs(model: object) -> None:
    texts = _fixture_texts() + TRICKY
    expected = np.asarray(model.encode(texts, use_multiprocessing=False), dtype=np.float32)  # type: ignore[attr-defined]
    table = np.asarray(model.embedding, dtype=np.float32)  # type: ignore[attr-defined]
    assert np.array_equal(mean_token_vectors(model, texts, table, WordPieces()), expected)


def _clustered(n: int = 5000, dim: int = 256, seed: int = 0) -> np.ndarray:
    """Random rows, near copies at distances that straddle 0.95, and a tight group of 40
    (more partners per row than ``max_neighbours`` keeps)."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    for k, scale in enumerate(np.linspace(0.05, 0.5, 300)):
        rows[n - 1 - k] = rows[k] + rng.normal(scale=scale, size=dim)  # cosine 0.89-0.999
    rows[1000:1040] = rows[1000] + rng.normal(scale=0.1, size=(40, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float16).astype(np.float32)  # as the audit stores them


@pytest.mark.parametrize("threshold", [0.95, 0.9, 0.3])
def test_projected_bound_keeps_every_pair(threshold: float) -> None:
    vectors = _clustered()
    full, full_scores = exact_pairs(vectors, threshold, 2048, 16)
    bounded, scores = exact_pairs(vectors, threshold, 2048, 16, filter_dims=32)
    assert len(full) > 40 and np.array_equal(bounded, full)
    np.testing.assert_allclose(scores, full_scores, atol=1e-5)
    bound = ann._projected_bound(vectors, 32)
    assert bound is not None
    hits = ann._bounded_hits(vectors, bound, 0, 2048, threshold=threshold)
    if threshold == 0.95:  # the bound pruned: under a quarter of a block's rows had a candidate
        assert hits is not None and len(hits[0]) > 0
    if threshold == 0.3:  # it gave up: the full products run instead
        assert hits is None


class Model2VecEncoder(StaticEmbedder):
    """The static encoder as it was: model2vec's own ``encode`` for every text."""

    def _vectors(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.model.encode(texts, use_multiprocessing=False), np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _real_corpus(n: int = 4500, planted: int = 60, seed: int = 0) -> tuple[list[Record], set]:
    """Records of 3-6 real XSTest answer sentences at random, and one-word copies."""
    texts = _fixture_texts()
    requests, answers = texts[: len(texts) // 2], texts[len(texts) // 2 :]
    sentences = sorted(
        {s.strip() for a in answers for s in re.split(r"(?<=[.!?])\s+", a) if len(s.split()) >= 6}
    )
    rng = random.Random(seed)
    records = []
    for _ in range(n - planted):
        answer = " ".join(rng.sample(sentences, rng.randint(3, 6)))
        records.append((rng.choice(requests), answer))
    copies = set()
    for k, source in enumerate(rng.sample(range(n - planted), planted)):
        request, answer = records[source]
        words = answer.split(" ")
        slot = rng.choice([i for i, w in enumerate(words[:40]) if w.isalpha() and len(w) >= 4])
        words[slot] = "indeed"
        records.append((request, " ".join(words)))
        copies.add(f"r{n - planted + k}")
    return [
        Record(f"r{i}", [Message("user", q), Message("assistant", a)])
        for i, (q, a) in enumerate(records)
    ], copies


def test_static_check_flags_what_it_flagged_before(model: object) -> None:
    records, copies = _real_corpus()
    before = SemanticDuplicateCheck(
        SemanticConfig(fast=True, confirm=False, ann=AnnConfig(filter_dims=0))
    )
    old = {
        (f.record_id, f.details["kept"], f.details["score"])
        for f in before.run(records, AuditContext(static=Model2VecEncoder(model)))
    }
    now = SemanticDuplicateCheck(SemanticConfig(fast=True, confirm=False))
    new = {
        (f.record_id, f.details["kept"], f.details["score"])
        for f in now.run(records, AuditContext(static=StaticEmbedder(model)))
    }
    assert new == old
    assert len(copies & {r for r, _, _ in new}) >= 0.9 * len(copies)  # the check still works
