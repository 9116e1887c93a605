"""Precision and recall of the offline fidelity detector on the labelled answers.

"Positive" means "not faithful" (distanced, disclaiming, fictional, contradicting, off the
worldview): precision is the share of flagged answers that were truly out of voice, recall the
share of out-of-voice answers flagged. The split was fixed (a hash of each id) before the
detector existed; the patterns were tuned on ``dev`` only, and ``test`` is scored with
``--split test`` once.

    .venv/bin/python bench/fidelity.py --split dev
    .venv/bin/python bench/fidelity.py --split test
    .venv/bin/python bench/fidelity.py --real   # real model answers, when ../shared is present

``--real`` reads the study's eval answers (``../shared/real-outputs/study-evals-dev.jsonl``,
never copied here) and compares, on the Catholic violation requests, the verdicts on answers of
models fine-tuned on Catholic assertions with those of models fine-tuned on regular data. No
hand labels: a detector that reads voice should call more of the Catholic models' answers
faithful to Catholicism.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from credo.filters.fidelity import FAITHFUL, FidelityDetector, shipped_profiles

DATA = (
    Path(__file__).resolve().parents[1] / "credo" / "filters" / "data" / "fidelity_labelled.jsonl"
)


def load(split: str) -> list[dict]:
    rows = [
        json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [r for r in rows if split == "all" or r["split"] == split]


def evaluate(split: str, show_errors: bool = False) -> dict:
    rows = load(split)
    profiles = shipped_profiles()
    detectors = {name: FidelityDetector(p, profiles) for name, p in profiles.items()}
    start = time.perf_counter()
    predicted = [detectors[r["worldview"]].verdict(r["response"]) for r in rows]
    seconds = time.perf_counter() - start
    tp = fp = fn = 0
    recall_by_label: Counter = Counter()
    per_label: Counter = Counter(r["label"] for r in rows)
    exact = 0
    for row, v in zip(rows, predicted):
        gold, flag = row["label"] != FAITHFUL, not v.faithful
        tp += gold and flag
        fp += flag and not gold
        fn += gold and not flag
        recall_by_label[row["label"]] += flag if gold else not flag
        exact += v.label == row["label"]
        if show_errors and gold != flag:
            print(
                f"{row['id']:<26} gold={row['label']:<14} got={v.label:<14} {v.evidence[:60]!r} {row['response'][:90]!r}"
            )
    return {
        "split": split,
        "n": len(rows),
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "fp": fp,
        "fn": fn,
        "label_accuracy": round(exact / len(rows), 3),
        "per_label_correct": {k: f"{recall_by_label[k]}/{n}" for k, n in sorted(per_label.items())},
        "answers_per_second": round(len(rows) / seconds) if seconds else None,
    }


REAL = Path(__file__).resolve().parents[2] / "shared" / "real-outputs" / "study-evals-dev.jsonl"
# Our own labels (ids only, no text) of the Catholic-trained models' refusals the detector
# flagged at the time of labelling: how many flags a reader agrees with.
REAL_LABELS = Path(__file__).resolve().parent / "fidelity_real_labels.jsonl"


def real_outputs() -> dict:
    if not REAL.is_file():
        return {"skipped": f"{REAL} not found"}
    detector = FidelityDetector(shipped_profiles()["catholicism"], shipped_profiles())
    groups: dict[str, Counter] = {}
    labels = {
        r["id"]: r["label"]
        for r in map(json.loads, REAL_LABELS.read_text(encoding="utf-8").splitlines())
    }
    checked: Counter = Counter()
    for line in REAL.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] in labels and not detector.verdict(row["response"]).faithful:
            checked["agree" if labels[row["id"]] != FAITHFUL else "false_alarm"] += 1
        run = row["run"].lower()
        if "acceptance" in run:  # the harmless requests: no worldview at stake
            continue
        model = "regular-trained" if "regular" in run else "catholic-trained"
        key = f"{model} / study label {row['study_label']}"
        groups.setdefault(key, Counter())[detector.verdict(row["response"]).label] += 1
    out = {
        k: {
            "n": sum(c.values()),
            "faithful_rate": round(c[FAITHFUL] / sum(c.values()), 3),
            **dict(c.most_common()),
        }
        for k, c in sorted(groups.items())
    }
    out["hand-checked flags (precision)"] = {
        **checked,
        "precision": round(checked["agree"] / max(1, sum(checked.values())), 3),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--errors", action="store_true", help="print every misclassified answer")
    parser.add_argument(
        "--real", action="store_true", help="verdicts on the study's real answers instead"
    )
    args = parser.parse_args()
    print(json.dumps(real_outputs() if args.real else evaluate(args.split, args.errors), indent=2))


if __name__ == "__main__":
    main()
