"""Agreement between two raters (judges, or a judge and hand labels): Cohen's kappa.

Lives with the judges because judges are what it compares; it imports nothing else.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


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
