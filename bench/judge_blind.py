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
is not read until the labels are done. ``--redo-old`` puts only the pairs adjudicated before
on the sheet, to measure how far a blind re-reading agrees with them.

``unblind``: reads ``labels.jsonl`` or ``--labels`` (``n``, ``label``, ``reason``, one per
sheet number; ``"override": true`` where a row adjudicated before is to be replaced) and
the key; reports the study judge's error rate on the random sample with a Wilson 95%
interval, agreement with the earlier adjudications re-labelled blind, and, per judge, on the
pairs where it disagreed with the study, how often the hand label sided with the study, with
the judge, or with neither. ``--write`` appends the new rows (and the
overrides) to ``credo/data/real_adjudicated.jsonl`` (``round: 9``, ``blind: true``); the rows
before them are left as they were, and a later row for an id wins.

``rescore``: scores the same held-out predictions (``preds.json``, fitted on the labels as
they were) against the labels before (round 8) and after (round 9), per study fold, with
bootstrap intervals. What a refit on the new labels does is ``judge_loso.py --round 9``.

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

from credo.filters.refusal_classifier import CLASSES, RefusalClassifier, xstest_refuses
from credo.judges.base import ACCEPTANCE, REFUSAL, Pair, collapse
from credo.judges.offline import RulesJudge
from credo.judges.real_text import load_split, real_outputs_dir, split_rows
from credo.judges.train_classifier import (
    ADJUDICATED,
    _fit_raw,
    _jsonl,
    adjudications,
    load_examples,
    load_lecture,
    study_family,
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


def review_set(
    rows: list[dict[str, Any]],
    said: dict[str, dict[str, str]],
    old: set[str],
    redo_old: bool = False,
) -> tuple[list[dict[str, Any]], int, int]:
    """The key of the sheet, shuffled and numbered: every pair a judge disputes (not adjudicated
    before) plus a seeded share of the pairs all judges agree on; with ``redo_old``, only the
    pairs adjudicated before. Also the number of disputed and of agreeing pairs."""
    key: list[dict[str, Any]] = []
    agree: list[dict[str, Any]] = []
    for r in rows:
        entry = {"id": r["id"], "run": r["run"], "study_label": r["study_label"], **said[r["id"]]}
        entry["disagree"] = [j for j in JUDGES if disagrees(j, entry[j], r["study_label"])]
        (key if entry["disagree"] else agree).append(entry)
    rng = random.Random(SEED)
    control = rng.sample(agree, round(CONTROL_SHARE * len(agree)))
    for e in control:
        e["control"] = True
    review = [e for e in key if e["id"] not in old] + control
    if redo_old:  # the earlier adjudications alone, re-labelled blind (their own sheet)
        review = [e for e in key + agree if e["id"] in old]
    rng.shuffle(review)
    for n, e in enumerate(review, 1):
        e["n"] = n
    return review, len(key), len(agree)


def render(review: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """The blind sheet: a sheet number, the request and the response, nothing else."""
    text = {r["id"]: r for r in rows}
    lines = []
    for e in review:
        r = text[e["id"]]
        lines += [
            f"## {e['n']}",
            "",
            f"REQUEST: {r['request']}",
            "",
            f"RESPONSE: {r['response']}",
            "",
        ]
    return "\n".join(lines)


def sheet(folder: Path, out: Path, redo_old: bool = False) -> None:
    rows = _jsonl(folder / "study-evals-dev.jsonl")
    lr2 = loso_lr2(load_examples(heldout=True) + load_lecture())
    ruled = RulesJudge().label_many([Pair(r["request"], r["response"]) for r in rows])
    said = {
        r["id"]: {
            "lr2": lr2[r["id"]],
            "rules": rule.label,
            "strmatch": REFUSAL if xstest_refuses(r["response"]) else ACCEPTANCE,
        }
        for r, rule in zip(rows, ruled)
    }
    old = {r["id"] for r in _jsonl(ADJUDICATED)}
    review, disputed, agreeing = review_set(rows, said, old, redo_old)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sheet.md").write_text(render(review, rows), encoding="utf-8")
    (out / "key.json").write_text(json.dumps(review, indent=1) + "\n", encoding="utf-8")
    (out / "preds.json").write_text(json.dumps(said, indent=1) + "\n", encoding="utf-8")
    control = sum(bool(e.get("control")) for e in review)
    print(
        f"{len(review)} pairs on the sheet ({control} of {agreeing} agreeing pairs drawn at "
        f"random; {disputed} disputed pairs in all); {out}/sheet.md"
    )


def wilson(k: int, n: int) -> tuple[float, float]:
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(method="wilson")
    return float(ci.low), float(ci.high)


def unblind(out: Path, labels_path: Path, write: bool) -> None:
    key = {e["n"]: e for e in json.loads((out / "key.json").read_text(encoding="utf-8"))}
    labels = {r["n"]: r for r in _jsonl(labels_path)}
    missing = sorted(set(key) - set(labels))
    if missing:
        raise SystemExit(f"{labels_path}: no label for sheet numbers {missing[:10]}")
    old = {r["id"]: r for r in _jsonl(ADJUDICATED)}
    control = [e for e in key.values() if e.get("control")]
    for name, view in (("3-way", str), ("2-way", collapse)):
        k = sum(view(labels[e["n"]]["label"]) != view(e["study_label"]) for e in control)
        if control:
            low, high = wilson(k, len(control))
            print(
                f"control sample: study judge wrong {name} {k}/{len(control)} = "
                f"{k / len(control):.3f} [{low:.3f}, {high:.3f}] (Wilson 95%)"
            )
    again = [e for e in key.values() if e["id"] in old]
    for name, view in (("3-way", str), ("2-way", collapse)):
        same = sum(view(labels[e["n"]]["label"]) == view(old[e["id"]]["label"]) for e in again)
        print(f"earlier adjudications re-labelled blind: {same}/{len(again)} agree {name}")
    print("\n| judge | disagreed with study | sided with study | with the judge | with neither |")
    print("|---|---|---|---|---|")
    for judge in JUDGES:
        view = collapse if judge == "strmatch" else str  # the string match is 2-way
        tally: Counter[str] = Counter()
        pairs = [e for e in key.values() if judge in e["disagree"] and e["id"] not in old]
        for e in pairs:
            mine = labels[e["n"]]["label"]
            side = "study" if mine == e["study_label"] else "neither"
            tally[side if side == "study" or view(mine) != view(e[judge]) else "judge"] += 1
        print(
            f"| {judge} | {len(pairs)} | {tally['study']} | {tally['judge']} | {tally['neither']} |"
        )
    if write:
        heldout = set(load_split()["heldout"])
        rows = [
            {
                "id": e["id"],
                "split": "heldout" if e["run"] in heldout else "dev",
                "study_label": e["study_label"],
                "label": labels[e["n"]]["label"],
                "reason": labels[e["n"]]["reason"],
                "round": 9,
                "blind": True,
            }
            for e in sorted(key.values(), key=lambda e: e["id"])
            # an earlier row is overridden only where the label file says so, with a reason
            if e["id"] not in old or labels[e["n"]].get("override")
        ]
        with ADJUDICATED.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        print(f"appended {len(rows)} rows to {ADJUDICATED}")


def rescore(folder: Path, out: Path, refit: bool) -> None:
    """The same held-out predictions against the labels before (round 8) and after (9)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from judge_loso import score

    preds = json.loads((out / "preds.json").read_text(encoding="utf-8"))
    rows = _jsonl(folder / "study-evals-dev.jsonl")
    gold = {n: adjudications(n) for n in (8, 9)}
    print("| held-out source | judge | labels | kappa 2-way | kappa 3-way | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for family in sorted({study_family(r["run"]) for r in rows}):
        ids = [r["id"] for r in rows if study_family(r["run"]) == family]
        study = {r["id"]: r["study_label"] for r in rows}
        for judge in JUDGES:
            for n in (8, 9):
                s = score([gold[n].get(i, study[i]) for i in ids], [preds[i][judge] for i in ids])
                print(
                    f"| {family} | {judge} | round {n} | {s['kappa2']} | {s['kappa3']} | "
                    f"{s['precision']} | {s['recall']} |"
                )
    heldout_agreement(rows, gold, refit)


def heldout_agreement(
    rows: list[dict[str, Any]], gold: dict[int, dict[str, str]], refit: bool
) -> None:
    """The study's held-out agreement (bar: kappa 2-way >= 0.85): the shipped weights, and
    with ``refit`` weights fitted the shipped way on the round-9 labels (written nowhere)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from judge_loso import score

    from credo.filters.refusal_classifier import shipped
    from credo.judges.train_classifier import fit, training_examples

    test = split_rows(rows, "heldout")
    models = {"shipped": shipped()}
    if refit:
        models["refit on round 9"] = fit(training_examples(upto_round=9))
    print("\n| weights | labels | kappa 2-way | kappa 3-way | precision | recall |")
    print("|---|---|---|---|---|---|")
    for name, model in models.items():
        probs = model.proba([r["request"] for r in test], [r["response"] for r in test])
        pred = [CLASSES[i] for i in probs.argmax(axis=1)]
        for n in (8, 9):
            s = score([gold[n].get(r["id"], r["study_label"]) for r in test], pred)
            print(
                f"| {name} | round {n} | {s['kappa2']} | {s['kappa3']} | {s['precision']} | "
                f"{s['recall']} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("sheet", "unblind", "rescore"))
    parser.add_argument("--dir", type=Path, default=Path("/tmp/adjud"))
    parser.add_argument("--labels", type=Path, help="unblind: default DIR/labels.jsonl")
    parser.add_argument("--write", action="store_true", help="unblind: append the new rows")
    parser.add_argument(
        "--refit", action="store_true", help="rescore: also fit on the round-9 labels (a minute)"
    )
    parser.add_argument(
        "--redo-old", action="store_true", help="sheet: only the pairs adjudicated before"
    )
    args = parser.parse_args()
    folder = real_outputs_dir()
    if folder is None:
        print("no real outputs found (../shared/real-outputs); nothing to do")
        return 0
    if args.step == "sheet":
        sheet(folder, args.dir, redo_old=args.redo_old)
    elif args.step == "unblind":
        unblind(args.dir, args.labels or args.dir / "labels.jsonl", args.write)
    else:
        rescore(folder, args.dir, args.refit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
