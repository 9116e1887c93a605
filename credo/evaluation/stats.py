"""Small, dependency-free statistics for refusal rates (a leaf: it imports nothing of credo).

Refusal studies report proportions from a few dozen prompts, so every rate carries a
Wilson score interval (it stays inside [0, 1] and behaves at 0/n and n/n, unlike the
normal approximation), and differences between runs get Fisher's exact test (exact at the
small counts involved) next to the two-proportion z statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """``k`` of ``n`` with its Wilson interval."""

    k: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "k": self.k,
            "n": self.n,
            "rate": None if not self.n else self.rate,
            "low": self.low,
            "high": self.high,
        }


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials; (0, 1) when n is 0."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k=0 or k=n one bound is exactly 0 or 1; clamp away float noise.
    return max(0.0, centre - half) if k else 0.0, min(1.0, centre + half) if k < n else 1.0


def proportion(k: int, n: int) -> Proportion:
    low, high = wilson_interval(k, n)
    return Proportion(k, n, low, high)


@dataclass(frozen=True)
class Comparison:
    """Difference between two proportions with its tests."""

    difference: float  # rate_b - rate_a
    z: float
    p_z: float  # two-sided, pooled two-proportion z test
    p_fisher: float  # two-sided Fisher exact test

    def to_json(self) -> dict[str, float | None]:
        return {
            k: (None if math.isnan(v) else v)
            for k, v in {
                "difference": self.difference,
                "z": self.z,
                "p_z": self.p_z,
                "p_fisher": self.p_fisher,
            }.items()
        }


def compare_proportions(k_a: int, n_a: int, k_b: int, n_b: int) -> Comparison:
    """Compare ``k_b/n_b`` against ``k_a/n_a`` (the baseline)."""
    if not n_a or not n_b:
        nan = float("nan")
        return Comparison(nan, nan, nan, nan)
    diff = k_b / n_b - k_a / n_a
    pooled = (k_a + k_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = diff / se if se else 0.0
    p_z = math.erfc(abs(z) / math.sqrt(2))
    return Comparison(diff, z, p_z, fisher_exact(k_a, n_a - k_a, k_b, n_b - k_b))


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p for the 2x2 table [[a, b], [c, d]].

    Sums the hypergeometric probabilities of all tables with the same margins that are no
    more likely than the observed one (the convention R and SciPy use).
    """
    row1, col1, n = a + b, a + c, a + b + c + d
    low, high = max(0, col1 - (n - row1)), min(row1, col1)

    def log_p(x: int) -> float:
        return _log_comb(col1, x) + _log_comb(n - col1, row1 - x) - _log_comb(n, row1)

    observed = log_p(a)
    # Relative tolerance so tables tied with the observed one count despite float error.
    total = sum(math.exp(lp) for x in range(low, high + 1) if (lp := log_p(x)) <= observed + 1e-7)
    return min(1.0, total)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
