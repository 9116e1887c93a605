"""The inverted-file pair search (ann.probe_pairs): the exact pairs, found sub-quadratically."""

from __future__ import annotations

import numpy as np
from test_ann_neighbour_cap import _components
from test_ann_neighbour_cap import _corpus as _clique_and_star
from test_spill import _findings, _records

from credo.filters.ann import AnnConfig, exact_pairs, probe_pairs, similar_pairs
from credo.filters.dedup import SemanticConfig, SemanticDuplicateCheck


def _text_like(n: int = 6000, dim: int = 64, copies: int = 300, seed: int = 0) -> np.ndarray:
    """Rows with a low-rank shared structure (as sentence vectors have) and ``copies`` planted
    partners at cosines spread over 0.85-0.99: pairs near the threshold are the ones a border
    between lists splits."""
    rng = np.random.default_rng(seed)
    rows = 0.5 * rng.normal(size=(n, dim)) + rng.normal(size=(n, 8)) @ rng.normal(size=(8, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    source = rng.choice(n - copies, copies, replace=False)
    side = rng.normal(size=(copies, dim))
    side -= (side * rows[source]).sum(axis=1, keepdims=True) * rows[source]
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    cos = rng.uniform(0.85, 0.99, size=(copies, 1))
    rows[n - copies :] = cos * rows[source] + np.sqrt(1 - cos**2) * side
    return rows.astype(np.float32)


def _as_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {(a, b) for a, b in pairs.tolist()}


CONFIG = AnnConfig(probe_list_rows=100, max_neighbours=None)  # 60 lists on 6,000 rows


def test_probe_pairs_find_the_exact_pairs() -> None:
    vectors = _text_like()
    for threshold in (0.85, 0.95):
        exact, _ = exact_pairs(vectors, threshold, block=512)
        found, scores = probe_pairs(vectors, threshold, CONFIG)
        assert len(exact) > 50
        assert len(_as_set(found) & _as_set(exact)) >= 0.99 * len(exact)
        assert _as_set(found) <= _as_set(exact)  # nothing below the threshold
        assert (found[:, 0] < found[:, 1]).all() and len(_as_set(found)) == len(found)
        cosines = np.einsum("ij,ij->i", vectors[found[:, 0]], vectors[found[:, 1]])
        assert np.allclose(scores, cosines, atol=1e-5)


def test_fewer_probes_lose_pairs_that_more_probes_find() -> None:
    """The probes are what recall depends on: one list per row misses pairs split by a border."""
    vectors = _text_like(seed=1)
    exact = _as_set(exact_pairs(vectors, 0.85, block=512)[0])
    one = _as_set(probe_pairs(vectors, 0.85, AnnConfig(probe_list_rows=100, probe_lists=1))[0])
    eight = _as_set(probe_pairs(vectors, 0.85, CONFIG)[0])
    assert len(one & exact) < len(eight & exact)


def test_probe_pairs_are_deterministic() -> None:
    vectors = _text_like(seed=2)
    first, s1 = probe_pairs(vectors, 0.9, CONFIG)
    again, s2 = probe_pairs(vectors, 0.9, CONFIG)
    assert np.array_equal(first, again) and np.array_equal(s1, s2)


def test_small_inputs() -> None:
    vectors = _text_like(n=400, copies=40)
    exact, _ = exact_pairs(vectors, 0.9)
    # fewer rows than a list holds: one list, every row compared with every other
    one_list, _ = probe_pairs(vectors[:80], 0.9, AnnConfig(max_neighbours=None))
    assert _as_set(one_list) == {p for p in _as_set(exact) if p[1] < 80}
    for rows in (0, 1):
        none, scores = probe_pairs(vectors[:rows], 0.9, CONFIG)
        assert none.shape == (0, 2) and len(scores) == 0


def test_capped_probe_pairs_keep_the_clusters() -> None:
    """A 300-row clique and a 40-leaf star: capped links give the components of all pairs, and
    every row with a partner keeps a link (a leaf found only from the hub's side included)."""
    vectors = _clique_and_star()
    every, _ = exact_pairs(vectors, 0.95, block=64)
    capped, scores = probe_pairs(vectors, 0.95, AnnConfig(probe_list_rows=50, max_neighbours=4))
    assert len(capped) < len(every) / 5
    assert len(capped) <= len(vectors) * (4 + 1)  # by rows, not by lists probed
    assert _components(len(vectors), capped) == _components(len(vectors), every)
    assert set(np.unique(capped)) == set(np.unique(every)) and (scores >= 0.95).all()


def test_similar_pairs_uses_the_inverted_file_from_probe_min() -> None:
    vectors = _text_like(n=3000, copies=150, seed=3)
    config = AnnConfig(probe_min=2000, probe_list_rows=100, max_neighbours=None)
    below, _ = similar_pairs(vectors[:1999], 0.9, config)
    assert np.array_equal(below, exact_pairs(vectors[:1999], 0.9, max_neighbours=None)[0])
    above, _ = similar_pairs(vectors.astype(np.float16), 0.9, config)  # as the audit stores them
    assert np.array_equal(above, probe_pairs(vectors.astype(np.float16), 0.9, config)[0])
    assert "ivf>=2000_l100_p8" in str(config) and "ivf" not in str(AnnConfig(probe_min=10**6))


def test_semantic_check_flags_the_same_records_through_the_inverted_file() -> None:
    """The check's static decision (centred vectors, capped links, clusters) on 6,000 rows:
    the inverted file flags what the exact search flags."""
    vectors = _text_like(copies=200, seed=4).astype(np.float16)  # as the check's partial holds
    records = _records(len(vectors))
    found = {}
    for probe_min in (100_000, 1000):  # exact search, then the inverted file
        ann = AnnConfig(probe_min=probe_min, probe_list_rows=100)
        check = SemanticDuplicateCheck(SemanticConfig(confirm=False, ann=ann))
        found[probe_min], _ = _findings(check, [(0, vectors)], records)
    assert len(found[1000]) >= 100 and found[1000] == found[100_000]
