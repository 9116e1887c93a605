"""MiniLM's confirm stage and contamination's candidates are bounded by a budget, not by how
redundant the corpus is."""

from __future__ import annotations

import numpy as np

from credo.filters.contamination import best_per_row, capped
from credo.filters.dedup import confirm_within


def _rows_read(pairs: np.ndarray, ask: np.ndarray) -> int:
    return len(np.unique(pairs[ask])) if ask.any() else 0


def test_everything_is_confirmed_within_the_budget() -> None:
    pairs = np.array([[0, 1], [2, 3], [4, 5]])
    scores = np.array([0.9, 0.88, 0.86])
    ask = confirm_within(pairs, scores, np.ones(3, dtype=bool), budget=6)
    assert ask.all()
    # closed pairs (decided by the static stage) are never sent to MiniLM
    closed = confirm_within(pairs, scores, np.array([True, False, True]), budget=6)
    assert closed.tolist() == [True, False, True]


def test_past_the_budget_the_best_scored_pairs_are_confirmed() -> None:
    rng = np.random.default_rng(0)
    n = 2000  # one big cluster: every row proposed with a few partners
    pairs = np.sort(rng.integers(0, n, size=(8000, 2)), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    scores = rng.uniform(0.85, 0.95, size=len(pairs))
    ask = confirm_within(pairs, scores, np.ones(len(pairs), dtype=bool), budget=300)
    assert 0 < _rows_read(pairs, ask) <= 300
    # the best-scored pair is always read; any pair whose two rows were read is confirmed
    assert ask[np.argmax(scores)]
    read = set(np.unique(pairs[ask]).tolist())
    both = np.array([a in read and b in read for a, b in pairs.tolist()])
    assert np.array_equal(both, ask)


def test_a_zero_budget_reads_nothing() -> None:
    pairs = np.array([[0, 1]])
    assert not confirm_within(pairs, np.array([0.9]), np.array([True]), budget=0).any()


def test_contamination_keeps_each_evals_best_candidates() -> None:
    sims = np.array([[0.9, 0.7, 0.95, 0.5, 0.8], [0.1, 0.2, 0.3, 0.4, 0.5]])
    assert sorted(best_per_row(sims, 0.6, 2)) == [(0, 0), (0, 2)]
    assert sorted(best_per_row(sims, 0.6, 10)) == [(0, 0), (0, 1), (0, 2), (0, 4)]
    found = {(0, 1): 0.7, (0, 3): 0.9, (0, 5): 0.9, (1, 2): 0.65, (0, 7): 0.8}
    assert capped(found, 2) == {(0, 3): 0.9, (0, 5): 0.9, (1, 2): 0.65}


def test_the_cluster_table_says_when_candidates_overflowed_the_budget() -> None:
    from credo.filters.dedup import cluster_table
    from credo.filters.report import CheckReport

    section = {
        "clusters": [],
        "cluster_count": 0,
        "removed": 0,
        "params": {
            "candidate_records": 19_000,
            "confirm_budget_rows": 2_200,
            "unconfirmed_pairs": 38_011,
        },
    }
    (table,) = cluster_table(CheckReport("semantic_duplicate", [], section))
    assert (
        "19000 records" in table.note and "38011 candidate pairs were not confirmed" in table.note
    )
    section["params"]["unconfirmed_pairs"] = 0
    (quiet,) = cluster_table(CheckReport("semantic_duplicate", [], section))
    assert "not confirmed" not in quiet.note
