"""MinHash signatures and LSH against oracles: true Jaccard and planted duplicates."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from credo.filters.dedup import candidate_pairs
from credo.filters.minhash import MinHashConfig, _signatures_datasketch, jaccard, signatures

WORDS = [f"w{i}" for i in range(3000)]


def _doc(rng: random.Random, n: int = 80) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def _true_jaccard(a: str, b: str, n: int) -> float:
    def shingles(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", text.lower())
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


@pytest.mark.parametrize("edits", [2, 8, 20])
def test_estimated_jaccard_is_close_to_true_jaccard(edits: int) -> None:
    rng = random.Random(edits)
    config = MinHashConfig(shingle=3, num_perm=256, bands=32)
    for _ in range(5):
        base = _doc(rng).split()
        other = list(base)
        for position in rng.sample(range(len(other)), edits):
            other[position] = rng.choice(WORDS)
        a, b = " ".join(base), " ".join(other)
        sigs = signatures([a, b], config)
        assert abs(jaccard(sigs[0], sigs[1]) - _true_jaccard(a, b, 3)) < 0.12


def test_lsh_finds_planted_duplicates() -> None:
    rng = random.Random(0)
    docs = [_doc(rng) for _ in range(2000)]
    planted = []
    for source in rng.sample(range(2000), 100):
        words = docs[source].split()
        words[rng.randrange(len(words))] = "changed"
        planted.append((source, len(docs)))
        docs.append(" ".join(words))
    config = MinHashConfig()
    sigs = signatures(docs, config)
    pairs = candidate_pairs(sigs, config)
    scores = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)
    found = {tuple(p) for p, s in zip(pairs.tolist(), scores) if s >= config.threshold}
    recall = sum((min(a, b), max(a, b)) in found for a, b in planted) / len(planted)
    assert recall >= 0.99
    assert len(found) <= 110, "random documents must not pair up"


def test_short_and_empty_texts_get_signatures_and_equal_texts_match() -> None:
    config = MinHashConfig(shingle=5)
    sigs = signatures(["Hi there", "hi THERE!", "", "", "a b c d e f"], config)
    assert sigs.shape == (5, config.num_perm)
    assert jaccard(sigs[0], sigs[1]) == 1.0 and jaccard(sigs[2], sigs[3]) == 1.0
    assert jaccard(sigs[0], sigs[4]) < 0.2


def test_datasketch_fallback_estimates_agree_with_rensa() -> None:
    rng = random.Random(3)
    a = _doc(rng)
    b = " ".join(a.split()[:60] + _doc(rng, 20).split())
    config = MinHashConfig(shingle=3, num_perm=256)
    fast, slow = signatures([a, b], config), _signatures_datasketch([a, b], config)
    assert abs(jaccard(fast[0], fast[1]) - jaccard(slow[0], slow[1])) < 0.1
    assert np.all(jaccard(slow[0], slow[0]) == 1.0)
