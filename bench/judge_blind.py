"""Round 9 of the judge card: the study's labels, adjudicated blind.

Three steps, run in this order; the study's text stays in ``/tmp`` (``--dir``), never in
the repository:

``sheet``: every study eval pair (``study-evals-dev.jsonl``, all runs) where any of three
judges disagrees with the study's DeepSeek label - refusal-lr-2's held-out prediction under
leave-one-source-out (the card's protocol, the fold that does not contain the pair), the
rules judge, XSTest's string match (read 2-way: it has no DEFLECTION) - plus a seeded random
15% of the pairs where all three agree, shuffled together. Pairs already adjudicated by hand
are skipped unless they fall in the random sample. Writes ``sheet.md`` (a sheet number, the
request, the response: no id, no judge, no label) and ``key.json`` (everything else), which
is not read until the labels are done.

``unblind``: reads ``labels.jsonl`` (``n``, ``label``, ``reason``, one per sheet number) and
the key; reports the study judge's error rate on the random sample with a Wilson 95%
interval, agreement with the earlier adjudications re-labelled blind, and, per judge, on the
pairs where it disagreed with the study, how often the hand label sided with the study, with
the judge, or with neither. ``--write`` appends the new rows to
``credo/data/real_adjudicated.jsonl`` (``round: 9``, ``blind: true``).

``rescore``: scores the same held-out predictions (the key's, fitted on the labels as they
were) against the labels before and after, per study fold, with bootstrap intervals.

    nice -n 10 .venv/bin/python bench/judge_blind.py sheet|unblind|rescore [--dir /tmp/adjud]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from credo.filters.refusal_classifier import CLASSES, RefusalClassifier, xstest_refuses
from credo.judges.base import ACCEPTANCE, REFUSAL, Pair, collapse
from credo.judges.offline import RulesJudge
from credo.judges.real_text import real_outputs_dir
from credo.judges.train_classifier import (
    ADJUDICATED,
    _fit_raw,
    _jsonl,
    load_examples,
    load_lecture,
)

JUDGES = ("lr2", "rules", "strmatch")
CONTROL_SHARE = 0.15
SEED = 9


def loso_lr2(examples: list[Any]) -> dict[str, str]:
    """refusal-lr-2's held-out label for every study eval pair (the argmax does not depend on
    the temperature, so none is fitted)."""
    out: dict[str, str] = {}
    for source in sorted({e.source for e in examples if e.source.startswith("study/")}):
        if source == "study/refusals":
            continue
        test = [e for e in examples if e.source == source]
        print(f"fold {source}: fitting on {len(examples) - len(test)} pairs", file=sys.stderr)
        model = RefusalClassifier(*_fit_raw([e for e in examples if e.source != source]))
        logits = model.logits([e.request for e in test], [e.response for e in test])
        out.update({e.id: CLASSES[i] for e, i in zip(test, logits.argmax(axis=1))})
    return out


def disagrees(judge: str, label: str, study: str) -> bool:
    if judge == "strmatch":  # it never says DEFLECTION: read it 2-way
        return collapse(label) != collapse(study)
    return label != study


def sheet(folder: Path, out: Path) -> None:
    rows = _jsonl(folder / "study-evals-dev.jsonl")
    examples = load_examples(heldout=True) + load_lecture()
    lr2 = loso_lr2(examples)
    ruled = RulesJudge().label_many([Pair(r["request"], r["response"]) for r in rows])
    old = {r["id"] for r in _jsonl(ADJUDICATED)}
    key, agree, preds = [], [], {}
    for r, rule in zip(rows, ruled):
        said = {
            "lr2": lr2[r["id"]],
            "rules": rule.label,
            "strmatch": REFUSAL if xstest_refuses(r["response"]) else ACCEPTANCE,
        }
        preds[r["id"]] = said
        entry = {"id": r["id"], "run": r["run"], "study_label": r["study_label"], **said}
        entry["disagree"] = [j for j in JUDGES if disagrees(j, said[j], r["study_label"])]
        (key if entry["disagree"] else agree).append(entry)
    rng = random.Random(SEED)
    control = rng.sample(agree, round(CONTROL_SHARE * len(agree)))
    for e in control:
        e["control"] = True
    review = [e for e in key if e["id"] not in old] + control
    rng.shuffle(review)
    text = {r["id"]: r for r in rows}
    lines = []
    for n, e in enumerate(review, 1):
        e["n"] = n
        r = text[e["id"]]
        lines += [f"## {n}", "", f"REQUEST: {r['request']}", "", f"RESPONSE: {r['response']}", ""]
    out.mkdir(parents=True, exist_ok=True)
    (out / "sheet.md").write_text("\n".join(lines), encoding="utf-8")
    (out / "key.json").write_text(json.dumps(review, indent=1) + "\n", encoding="utf-8")
    (out / "preds.json").write_text(json.dumps(preds, indent=1) + "\n", encoding="utf-8")
    print(
        f"{len(review)} pairs on the sheet: {sum('control' not in e for e in review)} disagreements "
        f"(of {len(key)}; {len(key) - sum('control' not in e for e in review)} adjudicated before), "
        f"{len(control)} of {len(agree)} agreeing pairs at random; {out}/sheet.md"
    )


def wilson(k: int, n: int) -> tuple[float, float]:
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(method="wilson")
    return float(ci.low), float(ci.high)


def unblind(out: Path, write: bool) -> None:
    key = {e["n"]: e for e in json.loads((out / "key.json").read_text(encoding="utf-8"))}
    labels = {r["n"]: r for r in _jsonl(out / "labels.jsonl")}
    missing = sorted(set(key) - set(labels))
    if missing:
        raise SystemExit(f"{out}/labels.jsonl: no label for sheet numbers {missing[:10]}...")
    old = {r["id"]: r for r in _jsonl(ADJUDICATED)}
    control = [e for e in key.values() if e.get("control")]
    wrong3 = sum(labels[e["n"]]["label"] != e["study_label"] for e in control)
    wrong2 = sum(collapse(labels[e["n"]]["label"]) != collapse(e["study_label"]) for e in control)
    for name, k in (("3-way", wrong3), ("2-way", wrong2)):
        low, high = wilson(k, len(control))
        print(
            f"control sample: study judge wrong {name} {k}/{len(control)} = "
            f"{k / len(control):.3f} [{low:.3f}, {high:.3f}]"
        )
    again = [e for e in key.values() if e["id"] in old]
    same = sum(labels[e["n"]]["label"] == old[e["id"]]["label"] for e in again)
    print(f"earlier adjudications re-labelled blind: {same}/{len(again)} agree")
    for e in again:
        print(f"  {e['id']}: earlier {old[e['id']]['label']}, now {labels[e['n']]['label']}")
    print("\n| judge | disagreed with study | sided with study | with the judge | with neither |")
    print("|---|---|---|---|---|")
    for judge in JUDGES:
        pairs = [e for e in key.values() if judge in e["disagree"] and e["id"] not in old]
        tally: Counter[str] = Counter()
        for e in pairs:
            mine = labels[e["n"]]["label"]
            view = collapse if judge == "strmatch" else str
            if mine == e["study_label"]:
                tally["study"] += 1
            elif view(mine) == view(e[judge]):
                tally["judge"] += 1
            else:
                tally["neither"] += 1
        print(
            f"| {judge} | {len(pairs)} | {tally['study']} | {tally['judge']} | {tally['neither']} |"
        )
    if write:
        rows = [
            {
                "id": e["id"],
                "split": "heldout" if e["run"] in _heldout_runs() else "dev",
                "study_label": e["study_label"],
                "label": labels[e["n"]]["label"],
                "reason": labels[e["n"]]["reason"],
                "round": 9,
                "blind": True,
            }
            for e in sorted(key.values(), key=lambda e: e["id"])
            if e["id"] not in old
        ]
        with ADJUDICATED.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        print(f"appended {len(rows)} rows to {ADJUDICATED}")


def _heldout_runs() -> set[str]:
    from credo.judges.real_text import load_split

    return set(load_split()["heldout"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("sheet", "unblind", "rescore"))
    parser.add_argument("--dir", type=Path, default=Path("/tmp/adjud"))
    parser.add_argument("--write", action="store_true", help="unblind: append the new rows")
    args = parser.parse_args()
    folder = real_outputs_dir()
    if folder is None:
        print("no real outputs found (../shared/real-outputs); nothing to do")
        return 0
    if args.step == "sheet":
        sheet(folder, args.dir)
    elif args.step == "unblind":
        unblind(args.dir, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
