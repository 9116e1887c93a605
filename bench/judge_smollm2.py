"""SmolLM2-135M-Instruct's hand-labelled XSTest answers: a fold no one here tuned on.

Two views (judge card, "Round 9: the embedded model"):

``first``: the shipped classifier (no retraining), the rules judge and XSTest's string match
on the new fold, with bootstrap 95% intervals: kappa 2-way (full refusal vs not; refused or
deflected vs complied), 3-way, refusal precision and recall, and the audit view (share of
full refusals and of full compliances the audit's refusal check flags). The fixture is
committed (XSTest prompts CC BY 4.0, SmolLM2 answers Apache-2.0), so this view needs no
``../shared``.

``conditions``: one of SmolLM2's two system prompts left out, the shipped training set plus
the other prompt's answers fitted (can its wording be learned at all?).

``pooled``: the protocol (``bench/judge_loso.py``) with and without the fold as an eighth
source: every source left out in turn, the fold's answers in the others' training or not.

    nice -n 10 .venv/bin/python bench/judge_smollm2.py first [--json out.json]
    nice -n 10 .venv/bin/python bench/judge_smollm2.py conditions [--json out.json]
    nice -n 10 .venv/bin/python bench/judge_loso.py --json before.json
    nice -n 10 .venv/bin/python bench/judge_smollm2.py pooled --before before.json [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.judge_loso import _jsonable, _rate, run, score
from credo.filters.refusal import RefusalCheck
from credo.filters.refusal_classifier import CLASSES, shipped, xstest_refuses
from credo.judges.base import ACCEPTANCE, REFUSAL, Pair
from credo.judges.offline import RulesJudge
from credo.judges.train_classifier import (
    Example,
    fit,
    load_examples,
    load_lecture,
    training_examples,
)

FIXTURE = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "smollm2_xstest" / "labelled.jsonl"
)
SOURCE = "xstest/smollm2"


def smollm2_examples(path: Path = FIXTURE, condition: str | None = None) -> list[Example]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        Example(
            SOURCE,
            f"smollm2-{r['condition']}/{r['id']}",
            request=r["request"],
            response=r["response"],
            label=r["label"],
        )
        for r in rows
        if condition is None or r["condition"] == condition
    ]


def first_score(examples: list[Example]) -> dict[str, Any]:
    """Every judge as shipped, on pairs none of them was tuned on."""
    requests, responses = [e.request for e in examples], [e.response for e in examples]
    gold = [e.label for e in examples]
    probs = shipped().proba(requests, responses)
    learned = [CLASSES[i] for i in probs.argmax(axis=1)]
    strmatch = [REFUSAL if xstest_refuses(r) else ACCEPTANCE for r in responses]
    ruled = [
        j.label for j in RulesJudge().label_many([Pair(q, r) for q, r in zip(requests, responses)])
    ]
    flagged = probs[:, 0] >= RefusalCheck().threshold
    is_ref = np.array([g == REFUSAL for g in gold])
    is_acc = np.array([g == ACCEPTANCE for g in gold])
    return {
        "n": len(examples),
        "gold": {k: gold.count(k) for k in CLASSES},
        "classifier": shipped().version,
        "learned": score(gold, learned),
        "strmatch": score(gold, strmatch),
        "rules": score(gold, ruled),
        "audit_refusals_flagged": _rate(flagged, is_ref),
        "audit_compliances_flagged": _rate(flagged, is_acc),
        "errors": [
            {"id": e.id, "gold": g, "pred": p, "p": [round(float(x), 3) for x in pr]}
            for e, g, p, pr in zip(examples, gold, learned, probs)
            if g != p
        ],
    }


def by_condition() -> dict[str, Any]:
    """Leave one SmolLM2 system prompt out: fit on the shipped training set plus the other
    prompt's answers. The same 128 prompts and the same model on both sides, so this says
    whether SmolLM2's wording can be learned, not how a new model would fare."""
    base = training_examples()
    out: dict[str, Any] = {}
    for held, other in (("plain", "cautious"), ("cautious", "plain")):
        model = fit(base + smollm2_examples(condition=other))
        test = smollm2_examples(condition=held)
        probs = model.proba([e.request for e in test], [e.response for e in test])
        gold = [e.label for e in test]
        flagged = probs[:, 0] >= RefusalCheck().threshold
        out[f"{held} left out"] = {
            "n": len(test),
            "learned": score(gold, [CLASSES[i] for i in probs.argmax(axis=1)]),
            "audit_refusals_flagged": _rate(flagged, np.array([g == REFUSAL for g in gold])),
            "audit_compliances_flagged": _rate(flagged, np.array([g == ACCEPTANCE for g in gold])),
        }
    return out


def first_table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| answers | n | judge | kappa 2-way (full refusal) | kappa 2-way (refused or deflected vs complied) | kappa 3-way | refusal precision | refusal recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for judge in ("learned", "strmatch", "rules"):
            if judge not in r:
                continue
            s = r[judge]
            lines.append(
                f"| {name} | {r['n']} | {judge} | {s['kappa2']} | {s['kappa_rd']} | "
                f"{s['kappa3']} | {s['precision']} | {s['recall']} |"
            )
    lines += ["", "| answers | audit: full refusals flagged | audit: full compliances flagged |"]
    lines.append("|---|---|---|")
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['audit_refusals_flagged']} | {r['audit_compliances_flagged']} |"
        )
    return "\n".join(lines)


def _cell(x: Any) -> str:
    """An Interval, or its JSON form read back from an earlier run's ``--json``."""
    if isinstance(x, dict):
        if x["value"] is None:
            return "n/a"
        return f"{x['value']:.3f} [{x['low']:.3f}, {x['high']:.3f}]"
    return str(x)


def pooled_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [
        "| held-out source | n | kappa 2-way before | after | kappa 3-way before | after | "
        "precision before | after | recall before | after | "
        "audit compliances flagged before | after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for source in after:
        a, b = after[source], before.get(source)
        cells = [f"| {source} | {a['n']} "]
        for key in ("kappa2", "kappa3", "precision", "recall"):
            cells.append(
                f"| {_cell(b['learned'][key]) if b else '-'} | {_cell(a['learned'][key])} "
            )
        flagged = "audit_compliances_flagged"
        cells.append(f"| {_cell(b[flagged]) if b else '-'} | {_cell(a[flagged])} |")
        lines.append("".join(cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("view", choices=["first", "pooled", "conditions"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--before", type=Path, help="pooled: judge_loso.py --json of the 7 sources")
    parser.add_argument("--after", type=Path, help="pooled: an earlier run's 'after' (its --json)")
    args = parser.parse_args()
    fold = smollm2_examples(args.fixture)
    if args.view == "first":
        results = {
            "all": first_score(fold),
            "plain prompt": first_score([e for e in fold if "plain/" in e.id]),
            "cautious prompt": first_score([e for e in fold if "cautious/" in e.id]),
        }
        print(first_table(results))
    elif args.view == "conditions":
        if not load_examples():
            print("no real outputs found (../shared/real-outputs); nothing to score")
            return 0
        results = by_condition()
        print(first_table(results))
    else:
        examples = load_examples(heldout=True)
        if not examples:
            print("no real outputs found (../shared/real-outputs); nothing to score")
            return 0
        examples += load_lecture()
        # the seven-source protocol is ``bench/judge_loso.py --json``; pass it to save a rerun
        before = json.loads(args.before.read_text()) if args.before else run(examples, 1.0)
        after = json.loads(args.after.read_text()) if args.after else run(examples + fold, 1.0)
        results = {"before": before, "after": after}
        print(pooled_table(before, after))
    if args.json:
        args.json.write_text(json.dumps(_jsonable(results), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
