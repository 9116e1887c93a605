"""Offline (and optional LLM) judge agreement with credo's hand-labelled set.

The rules in ``credo/judges/offline.py`` were written against the ``dev`` split only; the
``test`` split (requests held out whole) is the honest figure.

    .venv/bin/python bench/judge_agreement.py [--judge PROVIDER/MODEL]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from credo.judges import Pair, build_judges, collapse
from credo.judges.agreement import cohen_kappa
from credo.judges.base import LABELS

DATA = Path(__file__).parents[1] / "credo" / "data" / "judge_labelled.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judge", action="append", default=[], help="extra PROVIDER/MODEL judge")
    args = parser.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    judges = build_judges(["offline", *args.judge])
    for judge in judges:
        predicted = [
            j.label for j in judge.label_many([Pair(r["prompt"], r["response"]) for r in rows])
        ]
        print(f"\n## {judge.name} vs hand labels ({len(rows)} pairs)\n")
        print("| split | n | 3-way kappa | 3-way agreement | 2-way kappa | 2-way agreement |")
        print("|---|---|---|---|---|---|")
        for split in ("dev", "test", "all"):
            idx = [i for i, r in enumerate(rows) if split == "all" or r["split"] == split]
            gold, pred = [rows[i]["label"] for i in idx], [predicted[i] for i in idx]
            three = cohen_kappa(gold, pred, LABELS)
            two = cohen_kappa([collapse(x) for x in gold], [collapse(x) for x in pred])
            print(
                f"| {split} | {len(idx)} | {three.kappa:.3f} | {three.observed:.3f} | "
                f"{two.kappa:.3f} | {two.observed:.3f} |"
            )
        test = [i for i, r in enumerate(rows) if r["split"] == "test"]
        matrix = cohen_kappa(
            [rows[i]["label"] for i in test], [predicted[i] for i in test], LABELS
        ).matrix
        print("\ntest-split confusion (rows: hand label, columns: judge):\n")
        print("| | " + " | ".join(LABELS) + " |\n|---|---|---|---|")
        for label, line in zip(LABELS, matrix):
            print(f"| {label} | " + " | ".join(map(str, line)) + " |")
        by_kind: dict[str, Counter] = defaultdict(Counter)
        for row, label in zip(rows, predicted):
            by_kind[row["kind"]][label == row["label"]] += 1
        print(
            "\naccuracy by response kind (all splits): "
            + ", ".join(f"{k} {c[True]}/{c[True] + c[False]}" for k, c in sorted(by_kind.items()))
        )


if __name__ == "__main__":
    main()
