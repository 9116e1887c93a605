"""The one labelling path ``credo eval`` and ``credo judge`` share, and judge agreement."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from credo.errors import ConfigError
from credo.judges.agreement import cohen_kappa
from credo.judges.base import (
    ALL_LABELS,
    LABELS,
    NOT_REFUSAL,
    REFUSAL,
    Judge,
    Judgement,
    Pair,
    collapse,
)
from credo.judges.learned import OfflineJudge
from credo.judges.offline import RulesJudge

OFFLINE = "offline"  # the learned classifier (docs/judge-card.md)
RULES = "rules"  # the request-aware rules it replaced, kept as an anchor
RULES_ENSEMBLE = "rules+ensemble"  # rules + the audit's old refusal ensemble (loads MiniLM)


def build_judge(spec: str, registry: dict[str, Any] | None = None, **options: Any) -> Judge:
    """``offline``, ``rules`` or ``PROVIDER/MODEL`` (any generator backend) to a judge."""
    if spec == OFFLINE:
        return OfflineJudge()
    if spec == RULES:
        return RulesJudge()
    if spec == RULES_ENSEMBLE:
        from credo.filters.refusal_detector import RefusalDetector

        return RulesJudge(detector=RefusalDetector())
    if "/" not in spec:
        raise ConfigError(
            f"--judge {spec!r}: unknown judge - use 'offline', 'rules', 'rules+ensemble' or PROVIDER/MODEL "
            "such as openai/gpt-4o-mini"
        )
    from credo.generators import load_backend
    from credo.judges.llm import LLMJudge

    try:
        backend = load_backend(spec, registry)
    except ConfigError as exc:
        raise ConfigError(f"--judge {spec!r}: {str(exc).split(': ', 1)[-1]}") from exc
    return LLMJudge(backend, **options)


def build_judges(specs: Sequence[str], registry: dict[str, Any] | None = None) -> list[Judge]:
    """Judges for each spec; duplicates are an error (their columns would collide)."""
    duplicates = sorted(s for s, n in Counter(specs).items() if n > 1)
    if duplicates:
        raise ConfigError(f"--judge {', '.join(duplicates)} given twice - list each judge once")
    return [build_judge(s, registry) for s in specs]


def label_pairs(pairs: Sequence[Pair], judges: Sequence[Judge]) -> dict[str, list[Judgement]]:
    """Every judge's judgement of every pair, keyed by judge name, in pair order."""
    return {judge.name: judge.label_many(pairs) for judge in judges}


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    counts = Counter(labels)
    return {label: counts.get(label, 0) for label in ALL_LABELS}


def agreement(columns: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Pairwise Cohen's kappa with confusion matrices, 3-way and collapsed 2-way.

    UNPARSEABLE and ERROR stay in as categories of their own: a judge that cannot answer
    disagrees, it is not excused.
    """
    rows = []
    for (name_a, a), (name_b, b) in itertools.combinations(columns.items(), 2):
        three = cohen_kappa(a, b, [*LABELS, *(x for x in ALL_LABELS if x not in LABELS)])
        two = cohen_kappa(
            [collapse(x) for x in a], [collapse(x) for x in b], [REFUSAL, NOT_REFUSAL]
        )
        rows.append(
            {
                "a": name_a,
                "b": name_b,
                "three_way": _trim(three.to_json()),
                "two_way": _trim(two.to_json()),
            }
        )
    return rows


def _trim(data: dict[str, Any]) -> dict[str, Any]:
    """Drop failure categories nobody used, so matrices stay readable."""
    cats, matrix = data["categories"], data["matrix"]
    keep = [
        i
        for i, c in enumerate(cats)
        if c in LABELS or c in (REFUSAL, NOT_REFUSAL) or any(matrix[i]) or any(r[i] for r in matrix)
    ]
    data["categories"] = [cats[i] for i in keep]
    data["matrix"] = [[matrix[i][j] for j in keep] for i in keep]
    return data
