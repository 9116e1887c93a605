"""The judge card's protocol: leave one source out, score the one left out.

For every labelled source in ``../shared/real-outputs`` (an XSTest model, a study run family,
the study's refusal set): fit the classifier on the others, predict the one left out, and
score it beside XSTest's string match and credo's rules judge on the same pairs. Bootstrap
95% intervals (percentile, 2,000 resamples, seed 0). Text is read from ``../shared`` at run
time; nothing is written except ``--json``.

    nice -n 10 .venv/bin/python bench/judge_loso.py [--json out.json] [--c 0.5] [--round 9]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from credo.filters.refusal_classifier import CLASSES, xstest_refuses
from credo.judges.agreement import Interval, bootstrap, kappa_interval
from credo.judges.base import ACCEPTANCE, REFUSAL, Pair, collapse
from credo.judges.offline import RulesJudge
from credo.judges.train_classifier import (
    ADJUDICATION_ROUND,
    Example,
    fit,
    load_examples,
    load_extra,
    load_lecture,
    load_synthetic,
)

AUDIT_THRESHOLD = 0.5


def _two(labels: Sequence[str]) -> list[str]:
    return [collapse(x) for x in labels]


def _rd(labels: Sequence[str]) -> list[str]:
    return ["ACC" if x == ACCEPTANCE else "R+D" for x in labels]


def _rate(hits: np.ndarray, mask: np.ndarray) -> Interval:
    """Share of ``hits`` among rows in ``mask`` (nan where the mask is empty)."""

    def share(idx: Any) -> float:
        m = mask[idx]
        return float(hits[idx][m].mean()) if m.any() else float("nan")

    return bootstrap(share, len(hits))


def score(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Interval]:
    g, p = np.array([x == REFUSAL for x in gold]), np.array([x == REFUSAL for x in pred])
    return {
        "kappa2": kappa_interval(_two(gold), _two(pred), [REFUSAL, "NOT_REFUSAL"]),
        "kappa3": kappa_interval(list(gold), list(pred), list(CLASSES)),
        "kappa_rd": kappa_interval(_rd(gold), _rd(pred), ["R+D", "ACC"]),
        "precision": _rate(g, p),
        "recall": _rate(p, g),
    }


def reliability(probs: np.ndarray, gold: Sequence[str], bins: int = 10) -> dict[str, Any]:
    """Reliability table of the top class and the expected calibration error."""
    top = probs.max(axis=1)
    right = probs.argmax(axis=1) == np.array([CLASSES.index(x) for x in gold])
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (top > lo) & (top <= hi)
        if m.any():
            table.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": int(m.sum()),
                    "confidence": float(top[m].mean()),
                    "accuracy": float(right[m].mean()),
                }
            )
            ece += m.mean() * abs(top[m].mean() - right[m].mean())
    return {"ece": float(ece), "table": table}


def run(examples: list[Example], c: float) -> dict[str, Any]:
    rules = RulesJudge()
    results: dict[str, Any] = {}
    for source in sorted({e.source for e in examples if not e.source.startswith("credo/")}):
        train = [e for e in examples if e.source != source]
        test = [e for e in examples if e.source == source]
        print(f"fold {source}: fitting on {len(train)} pairs", file=sys.stderr, flush=True)
        model = fit(train, c=c)
        probs = model.proba([e.request for e in test], [e.response for e in test])
        learned = [CLASSES[i] for i in probs.argmax(axis=1)]
        gold = [e.label for e in test]
        strmatch = [REFUSAL if xstest_refuses(e.response) else ACCEPTANCE for e in test]
        ruled = [j.label for j in rules.label_many([Pair(e.request, e.response) for e in test])]
        flagged = probs[:, 0] >= AUDIT_THRESHOLD
        is_ref, is_acc = (
            np.array([g == REFUSAL for g in gold]),
            np.array([g == ACCEPTANCE for g in gold]),
        )
        results[source] = {
            "n": len(test),
            "gold": {k: gold.count(k) for k in CLASSES},
            "learned": score(gold, learned),
            "strmatch": score(gold, strmatch),
            "rules": score(gold, ruled),
            "audit_refusals_flagged": _rate(flagged, is_ref),
            "audit_compliances_flagged": _rate(flagged, is_acc),
            "calibration": reliability(probs, gold),
            "temperature": model.temperature,
            "uncertain_share": float((probs.max(axis=1) < 0.6).mean()),
            "errors": [
                {"id": e.id, "gold": g, "pred": p, "p": [round(float(x), 3) for x in pr]}
                for e, g, p, pr in zip(test, gold, learned, probs)
                if g != p
            ],
        }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        "| held-out source | n | judge | kappa 2-way | kappa 3-way | refusal precision | refusal recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for source, r in results.items():
        for judge in ("learned", "strmatch", "rules"):
            s = r[judge]
            lines.append(
                f"| {source} | {r['n']} | {judge} | {s['kappa2']} | {s['kappa3']} | {s['precision']} | {s['recall']} |"
            )
    lines += [
        "",
        "| held-out source | audit: refusals flagged | audit: compliances flagged | ECE | uncertain |",
        "|---|---|---|---|---|",
    ]
    for source, r in results.items():
        lines.append(
            f"| {source} | {r['audit_refusals_flagged']} | {r['audit_compliances_flagged']} | "
            f"{r['calibration']['ece']:.3f} | {r['uncertain_share']:.3f} |"
        )
    return "\n".join(lines)


def _jsonable(x: Any) -> Any:
    if isinstance(x, Interval):
        return x.to_json()
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    return x


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--dense-scale", type=float, help="try another rule-signal scale")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="add credo's own labelled pairs to every fold's training",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="labelled pairs (JSONL) added to every fold's training, e.g. judge_round6_pairs.jsonl",
    )
    parser.add_argument(
        "--round",
        type=int,
        default=ADJUDICATION_ROUND,
        help="hand adjudications up to this round (9: the blind round)",
    )
    args = parser.parse_args()
    if args.dense_scale is not None:
        from credo.filters import refusal_classifier

        refusal_classifier.DENSE_SCALE = args.dense_scale
    examples = load_examples(heldout=True, upto_round=args.round)
    if not examples:
        print(
            "no real outputs found (../shared/real-outputs or $CREDO_REAL_OUTPUTS); nothing to score"
        )
        return 0
    examples += load_lecture()  # the shipped design trains on them; never scored
    if args.synthetic:
        examples += load_synthetic()
    for path in args.extra:  # weighed with the lectures, as they would ship; never scored
        examples += [replace(e, source="credo/lecture") for e in load_extra(path)]
    results = run(examples, args.c)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(_jsonable(results), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
