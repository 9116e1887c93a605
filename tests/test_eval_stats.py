"""Statistics against known values (published examples and SciPy/sklearn as oracles)."""

from __future__ import annotations

import math

import pytest

from credo.evaluation.stats import (
    compare_proportions,
    fisher_exact,
    proportion,
    wilson_interval,
)
from credo.judges.agreement import cohen_kappa


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # Wilson (1927) / Newcombe (1998) table values
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998, example (a)
        (28, 40, 0.5456, 0.8189),
    ],
)
def test_wilson_known_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=5e-4)
    assert hi == pytest.approx(high, abs=5e-4)


def test_wilson_empty_and_invalid() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert math.isnan(proportion(0, 0).rate)
    with pytest.raises(ValueError, match="need 0 <= k <= n"):
        wilson_interval(5, 3)


def test_kappa_textbook_example() -> None:
    # Wikipedia's worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    agreement = cohen_kappa(a, b, ["yes", "no"])
    assert agreement.kappa == pytest.approx(0.4)
    assert agreement.matrix == [[20, 5], [10, 15]]
    assert agreement.observed == pytest.approx(0.7)


def test_kappa_matches_sklearn_three_way() -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    a = list("RRRDDAAAARDA" * 3)
    b = list("RRDDAAARARDD" * 3)
    ours = cohen_kappa(a, b).kappa
    assert ours == pytest.approx(sklearn.cohen_kappa_score(a, b))


def test_kappa_degenerate() -> None:
    assert math.isnan(cohen_kappa(["A"] * 4, ["A"] * 4).kappa)
    assert cohen_kappa([], []).n == 0
    with pytest.raises(ValueError, match="differ in length"):
        cohen_kappa(["A"], [])


def test_fisher_known_values() -> None:
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(0.4857, abs=1e-4)  # Fisher's tea tasting
    scipy_stats = pytest.importorskip("scipy.stats")
    for table in [(16, 24, 28, 12), (7, 33, 3, 37), (0, 40, 5, 35), (28, 17, 15, 25)]:
        a, b, c, d = table
        expected = scipy_stats.fisher_exact([[a, b], [c, d]]).pvalue
        assert fisher_exact(*table) == pytest.approx(expected, rel=1e-6)


def test_compare_proportions_baseline_vs_worldview() -> None:
    # The original's Catholic result: 16/40 baseline vs 28/40 trained.
    result = compare_proportions(16, 40, 28, 40)
    assert result.difference == pytest.approx(0.3)
    assert result.z == pytest.approx(2.6968, abs=1e-3)
    assert result.p_z == pytest.approx(0.0070, abs=5e-4)
    assert 0.005 < result.p_fisher < 0.02
    assert math.isnan(compare_proportions(0, 0, 1, 2).p_fisher)
