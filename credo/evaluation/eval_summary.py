"""Rates with Wilson intervals per worldview, set, form, act and prompt for one judge.

Every sample counts in its denominators whatever its label: UNPARSEABLE and ERROR are
rates of their own, never excluded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from credo.evaluation.samples import EvalSample
from credo.evaluation.stats import compare_proportions, proportion
from credo.judges.base import ALL_LABELS, REFUSAL


def rates(labels: Sequence[str]) -> dict[str, Any]:
    """``{"n", "rates": {label: {k, n, rate, low, high}}}`` over all five labels."""
    n = len(labels)
    return {
        "n": n,
        "rates": {
            lab: proportion(sum(x == lab for x in labels), n).to_json() for lab in ALL_LABELS
        },
    }


def _grouped(rows: Sequence[EvalSample], labels: Sequence[str], key: str) -> dict[str, Any]:
    groups: dict[str, list[str]] = defaultdict(list)
    for row, label in zip(rows, labels):
        groups[str(getattr(row.request, key))].append(label)
    return {name: rates(group) for name, group in sorted(groups.items())}


def summarise(rows: Sequence[EvalSample], labels: Sequence[str]) -> dict[str, Any]:
    """Per worldview: each set overall and by form / act / prompt, and violation vs control."""
    by_world: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, row in enumerate(rows):
        by_world[row.request.worldview][row.request.set].append(index)
    out: dict[str, Any] = {}
    for world, sets in by_world.items():
        summary: dict[str, Any] = {}
        for set_name, indices in sets.items():
            sub_rows = [rows[i] for i in indices]
            sub_labels = [labels[i] for i in indices]
            summary[set_name] = {
                **rates(sub_labels),
                "by_form": _grouped(sub_rows, sub_labels, "form"),
                "by_act": _grouped(sub_rows, sub_labels, "act") if set_name == "violation" else {},
                "by_prompt": _grouped(sub_rows, sub_labels, "request_id"),
            }
        if "violation" in summary and "control" in summary:
            v, c = summary["violation"]["rates"][REFUSAL], summary["control"]["rates"][REFUSAL]
            summary["violation_vs_control"] = compare_proportions(
                c["k"], c["n"], v["k"], v["n"]
            ).to_json()
        out[world] = summary
    return out
