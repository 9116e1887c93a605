"""Would a learned judge beat the rules? Leave-one-run-out on the real dev runs only.

An experiment, not a shipped judge: logistic regression on the offline judge's rule signals
plus MiniLM embeddings of request and response, trained on nine dev runs and scored on the
tenth, for each dev run in turn; the rules are scored on the same rows. The held-out runs are
never read. Text comes from ``../shared`` at run time; nothing is written.

    nice -n 10 .venv/bin/python bench/judge_learned.py
"""

from __future__ import annotations

import sys

import numpy as np

from credo.judges import OfflineJudge, Pair, collapse
from credo.judges.agreement import cohen_kappa
from credo.judges.base import LABELS
from credo.judges.offline import _rules
from credo.judges.real_text import load_evals, split_rows

SIGNALS = (
    "decline",
    "capability",
    "pivot",
    "opposite",
    "rejects_first",
    "concede",
    "condemn",
    "redirect",
    "both_sides",
    "question",
    "list",
    "deliver",
)


def features(rows: list[dict], encoder) -> np.ndarray:
    flags = np.array(
        [[s in _rules(r["request"], r["response"]) for s in SIGNALS] for r in rows],
        dtype=np.float32,
    )
    req = encoder.encode([r["request"] for r in rows], batch_size=32, normalize_embeddings=True)
    resp = encoder.encode(
        [r["response"][:1500] for r in rows], batch_size=32, normalize_embeddings=True
    )
    cos = (req * resp).sum(axis=1, keepdims=True)
    return np.hstack(
        [flags * 3.0, req, resp, cos]
    )  # flags scaled so the penalty does not drown them


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    from credo.filters.embed import load_minilm

    rows = split_rows(load_evals(), "dev")
    if not rows:
        print("no real outputs found; nothing to do")
        return 0
    x = features(rows, load_minilm())
    y = np.array([r["study_label"] for r in rows])
    runs = np.array([r["run"] for r in rows])
    rules = [
        j.label
        for j in OfflineJudge().label_many([Pair(r["request"], r["response"]) for r in rows])
    ]
    learned = np.empty(len(rows), dtype=object)
    for run in sorted(set(runs)):
        test = runs == run
        model = LogisticRegression(C=1.0, max_iter=2000, class_weight=None).fit(x[~test], y[~test])
        learned[test] = model.predict(x[test])
    for name, pred in (("rules", rules), ("learned (leave-one-run-out)", list(learned))):
        three = cohen_kappa(list(y), pred, LABELS)
        two = cohen_kappa([collapse(v) for v in y], [collapse(v) for v in pred])
        print(
            f"{name}: 3-way kappa {three.kappa:.3f}, 2-way kappa {two.kappa:.3f}, agreement {three.observed:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
