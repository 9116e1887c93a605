"""Agreement between two raters (judges, or a judge and hand labels): Cohen's kappa.

Lives with the judges because judges are what it compares; it imports nothing else.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Agreement:
    """Cohen's kappa between two raters with the confusion matrix behind it."""

    kappa: float
    observed: float  # raw agreement
    expected: float  # chance agreement from the marginals
    n: int
    categories: list[str]
    matrix: list[list[int]]  # rows: rater a, columns: rater b

    def to_json(self) -> dict:
        return {
            "kappa": None if math.isnan(self.kappa) else self.kappa,
            "observed": self.observed,
            "expected": self.expected,
            "n": self.n,
            "categories": self.categories,
            "matrix": self.matrix,
        }


def cohen_kappa(
    a: Sequence[str], b: Sequence[str], categories: Sequence[str] | None = None
) -> Agreement:
    """Cohen's kappa of two label sequences of equal length.

    ``categories`` fixes the matrix order (labels outside it are added at the end).
    When both raters use a single identical category kappa is undefined (NaN) though
    observed agreement is 1.
    """
    if len(a) != len(b):
        raise ValueError(f"rater sequences differ in length ({len(a)} vs {len(b)})")
    cats = list(categories or [])
    cats += sorted({*a, *b} - set(cats))
    index = {c: i for i, c in enumerate(cats)}
    matrix = [[0] * len(cats) for _ in cats]
    for x, y in zip(a, b):
        matrix[index[x]][index[y]] += 1
    n = len(a)
    if n == 0:
        return Agreement(
            kappa=float("nan"),
            observed=float("nan"),
            expected=float("nan"),
            n=0,
            categories=cats,
            matrix=matrix,
        )
    observed = sum(matrix[i][i] for i in range(len(cats))) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[c] * count_b[c] for c in cats) / (n * n)
    kappa = float("nan") if expected == 1 else (observed - expected) / (1 - expected)
    return Agreement(
        kappa=kappa, observed=observed, expected=expected, n=n, categories=cats, matrix=matrix
    )


@dataclass(frozen=True)
class Interval:
    """A statistic with its percentile bootstrap 95% interval (NaN where undefined)."""

    value: float
    low: float
    high: float

    def to_json(self) -> dict:
        def clean(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 4)

        return {"value": clean(self.value), "low": clean(self.low), "high": clean(self.high)}

    def __str__(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def bootstrap(
    statistic: Callable[[Any], float],
    n: int,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap of ``statistic(indices)`` over ``n`` items (pairs resampled whole)."""
    import numpy as np

    value = statistic(range(n))
    if n == 0:
        return Interval(value, float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    draws = [statistic(rng.integers(0, n, n)) for _ in range(resamples)]
    finite = [d for d in draws if not math.isnan(d)]
    if not finite:
        return Interval(value, float("nan"), float("nan"))
    low, high = np.percentile(finite, [2.5, 97.5])
    return Interval(value, float(low), float(high))


def kappa_interval(
    a: Sequence[str],
    b: Sequence[str],
    categories: Sequence[str] | None = None,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Cohen's kappa of ``a`` and ``b`` with its bootstrap 95% interval."""
    import numpy as np

    cats = list(dict.fromkeys([*(categories or []), *sorted({*a, *b})]))
    k = len(cats)
    code = {c: i for i, c in enumerate(cats)}
    pairs = np.array([code[x] * k + code[y] for x, y in zip(a, b)], dtype=np.int64)

    def kappa(idx: Sequence[int]) -> float:
        m = np.bincount(pairs[np.asarray(idx, dtype=np.int64)], minlength=k * k).reshape(k, k)
        n = m.sum()
        if n == 0:
            return float("nan")
        observed = np.trace(m) / n
        expected = float((m.sum(axis=1) * m.sum(axis=0)).sum()) / (n * n)
        return float("nan") if expected == 1 else float((observed - expected) / (1 - expected))

    return bootstrap(kappa, len(pairs), resamples, seed)
