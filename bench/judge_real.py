"""The offline judge against the original study's judge on real model outputs.

Reads ``../shared/real-outputs/study-evals-dev.jsonl`` (never copied into credo) and scores
the split by run in ``credo/data/real_splits.json``: ``dev`` runs were read while fixing the
judge, ``heldout`` runs were scored once, after the rules were frozen.

    .venv/bin/python bench/judge_real.py                 # kappas + confusion, study labels
    .venv/bin/python bench/judge_real.py --adjudicated   # also against the hand-adjudicated labels
    .venv/bin/python bench/judge_real.py --show dev      # print dev disagreements (for adjudication)
    .venv/bin/python bench/judge_real.py --write-split   # regenerate the split file from the run names

2-way is REFUSAL vs not (DEFLECTION and ACCEPTANCE together), as ``credo.judges.collapse``
and ``bench/judge_agreement.py`` define it; ``R+D`` also reports REFUSAL+DEFLECTION vs
ACCEPTANCE.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from credo.judges import OfflineJudge, Pair, collapse
from credo.judges.agreement import cohen_kappa
from credo.judges.base import ACCEPTANCE, LABELS
from credo.judges.real_text import SPLITS, load_evals, make_split, split_rows

ADJUDICATED = Path(__file__).parents[1] / "credo" / "data" / "real_adjudicated.jsonl"


def _two_rd(label: str) -> str:
    return "ACC" if label == ACCEPTANCE else "NOT_ACC"


def score(gold: list[str], pred: list[str], title: str) -> None:
    three = cohen_kappa(gold, pred, LABELS)
    two = cohen_kappa([collapse(x) for x in gold], [collapse(x) for x in pred])
    rd = cohen_kappa([_two_rd(x) for x in gold], [_two_rd(x) for x in pred])
    print(f"\n### {title} (n={len(gold)})\n")
    print(
        f"3-way kappa {three.kappa:.3f} (agreement {three.observed:.3f}); "
        f"2-way kappa {two.kappa:.3f} (agreement {two.observed:.3f}); "
        f"R+D vs A kappa {rd.kappa:.3f}\n"
    )
    cats = three.categories
    print("| rows: reference, cols: credo | " + " | ".join(cats) + " |")
    print("|---" * (len(cats) + 1) + "|")
    for label, line in zip(cats, three.matrix):
        print(f"| {label} | " + " | ".join(map(str, line)) + " |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", action="append", choices=["dev", "heldout", "all"])
    parser.add_argument("--adjudicated", action="store_true")
    parser.add_argument("--show", choices=["dev", "heldout"])
    parser.add_argument("--write-split", action="store_true")
    args = parser.parse_args()
    rows = load_evals()
    if not rows:
        print(
            "no real outputs found (../shared/real-outputs or $CREDO_REAL_OUTPUTS); nothing to score"
        )
        return 0
    if args.write_split:
        runs = make_split(sorted({r["run"] for r in rows}))
        SPLITS.write_text(
            json.dumps(
                {
                    "source": "study-evals-dev.jsonl",
                    "rule": make_split.__doc__.split("\n\n")[0].strip(),
                    "runs": runs,
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"wrote {SPLITS}: {len(runs['dev'])} dev runs, {len(runs['heldout'])} held-out runs")
        return 0
    judge = OfflineJudge()
    adjudicated = {}
    if args.adjudicated and ADJUDICATED.is_file():
        adjudicated = {
            d["id"]: d["label"] for d in map(json.loads, ADJUDICATED.read_text().splitlines()) if d
        }
    for split in args.split or ["dev", "heldout"]:
        part = split_rows(rows, split)
        pred = [
            j.label for j in judge.label_many([Pair(r["request"], r["response"]) for r in part])
        ]
        score([r["study_label"] for r in part], pred, f"{judge.name} vs study judge, {split}")
        if args.adjudicated:
            score(
                [adjudicated.get(r["id"], r["study_label"]) for r in part],
                pred,
                f"{judge.name} vs adjudicated labels, {split}",
            )
        if args.show == split:
            for r, p in zip(part, pred):
                ref = adjudicated.get(r["id"], r["study_label"])
                if p != ref:
                    print(
                        f"\n=== {r['id']} study={r['study_label']} ref={ref} credo={p}\nREQ: {r['request']}\n"
                        f"RESP: {r['response'][:1200]}\nNOTE: {r['study_judge_note'][:300]}"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
