"""Capping links per row bounds the pairs of a one-big-cluster corpus and keeps its clusters."""

from __future__ import annotations

import numpy as np

from credo.filters.ann import exact_pairs
from credo.filters.dedup import UnionFind


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _components(n: int, pairs: np.ndarray) -> list[int]:
    uf = UnionFind(n)
    for a, b in pairs.tolist():
        uf.union(a, b)
    return [uf.find(i) for i in range(n)]


def _corpus(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=64)
    clique = centre + 0.02 * rng.normal(size=(300, 64))  # a mode-collapsed block
    # a star: leaves near the hub (row 300) but not near each other
    hub = rng.normal(size=64)
    hub /= np.linalg.norm(hub)
    leaves = []
    for _ in range(40):
        side = rng.normal(size=64)
        side -= side @ hub * hub
        side /= np.linalg.norm(side)
        leaves.append(0.97 * hub + np.sqrt(1 - 0.97**2) * side)
    noise = rng.normal(size=(200, 64))
    rows = np.concatenate([clique, [hub], np.array(leaves), noise])
    return _unit(rows)


def test_capped_pairs_keep_the_clusters_of_all_pairs() -> None:
    vectors = _corpus()
    every, _ = exact_pairs(vectors, 0.95, block=64)
    capped, scores = exact_pairs(vectors, 0.95, block=64, max_neighbours=4)
    assert len(capped) < len(every) / 5  # 300-row clique: ~45k pairs, capped ~1.2k
    assert _components(len(vectors), capped) == _components(len(vectors), every)
    assert (scores >= 0.95).all()
    assert set(np.unique(capped)) == set(np.unique(every))  # every row with a partner keeps one


def test_no_cap_changes_nothing_below_it() -> None:
    vectors = _corpus(1)
    every, s1 = exact_pairs(vectors, 0.95, block=50)
    capped, s2 = exact_pairs(vectors, 0.95, block=50, max_neighbours=10_000)
    assert np.array_equal(every, capped) and np.allclose(s1, s2)
