"""Train the refusal classifier shipped in ``credo/filters/data/refusal_classifier.npz``.

    python -m credo.judges.train_classifier --out credo/filters/data/refusal_classifier.npz

reads the labelled real answers in ``../shared/real-outputs`` (or ``$CREDO_REAL_OUTPUTS``)
at train time - the study's text is never copied into the repository, only the derived
weights are - plus any ``--extra`` JSONL of your own labels (``request``/``prompt``,
``response``, ``label``). Labels: XSTest's human labels; the study's judge, overridden by the
hand adjudications in ``credo/data/real_adjudicated.jsonl``; the study's refusal set as
REFUSAL. The study runs held out in ``credo/data/real_splits.json`` are never trained on, so
the study's held-out agreement stays a held-out score.

The same run on the same data gives the same weights (lbfgs from zero, no sampling); the
weights record the sha256 of the manifest of (source, id, label) rows they were fitted on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from credo.errors import CorpusError
from credo.filters.refusal_classifier import (
    CLASSES,
    HASH_BITS,
    WEIGHTS_PATH,
    RefusalClassifier,
    to_sparse,
)
from credo.judges.real_text import load_split, real_outputs_dir

VERSION = "refusal-lr-2"
ADJUDICATED = Path(__file__).parents[1] / "data" / "real_adjudicated.jsonl"
SYNTHETIC = Path(__file__).parents[1] / "data" / "judge_labelled.jsonl"  # credo-written pairs
# credo-written pairs in the voice of safety-tuned chat models (lectures, premise rejections,
# lecture-then-help, caveat-then-help): trained on by default, never scored (judge card).
LECTURE = Path(__file__).parents[1] / "data" / "judge_lecture.jsonl"
C = 1.0  # inverse L2 strength (chosen by the judge card's protocol)
# The hand-adjudication rounds the shipped weights were fitted on. Rows of a later round
# (``"round": 9``, the blind adjudication on the judge card) are read only when asked
# (``--round 9``): raising this is a retrain, and it changes the weights' data hash.
ADJUDICATION_ROUND = 8


@dataclass(frozen=True)
class Example:
    source: str  # the leave-one-out unit: an XSTest model or a study run family
    id: str
    request: str
    response: str
    label: str


def study_family(run: str) -> str:
    """Runs of one base model and date form a family; a fold never trains on a sibling run."""
    if run.startswith("MISTRAL_CATHOLIC_"):
        return "study/mistral-0814"
    if run.startswith("arcee-4.5b/"):
        return "study/arcee-4.5b"
    if run.startswith("checkpoint-"):
        return "study/checkpoint"
    if run.startswith("mistral_nemo/"):
        return "study/mistral-nemo"
    return f"study/{run}"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path}:{n}: not valid JSON ({exc.msg}); fix that line") from exc
    return rows


def load_synthetic(path: Path = SYNTHETIC, source: str = "credo/synthetic") -> list[Example]:
    """credo's own labelled pairs (opposite answers, questions back...): trained on, never scored."""
    return [
        Example(
            source,
            r["id"],
            request=r["prompt"],
            response=r["response"],
            label=r["label"],
        )
        for r in _jsonl(path)
    ]


def adjudications(upto_round: int = ADJUDICATION_ROUND) -> dict[str, str]:
    """Hand labels by id, rounds up to ``upto_round`` (rows without a round are from round 8
    or before); a later row for the same id overrides an earlier one."""
    return {r["id"]: r["label"] for r in _jsonl(ADJUDICATED) if r.get("round", 8) <= upto_round}


def load_examples(
    folder: Path | None = None, heldout: bool = False, upto_round: int = ADJUDICATION_ROUND
) -> list[Example]:
    """Every labelled real answer (empty without ``../shared``). ``heldout`` keeps the study
    runs of the held-out split (the protocol's folds use them; the shipped weights do not);
    ``upto_round`` says which rounds of hand adjudication override the study's labels."""
    folder = folder or real_outputs_dir()
    if folder is None:
        return []
    adjudicated = adjudications(upto_round)
    kept_out = set() if heldout else set(load_split()["heldout"])
    out = [
        Example(
            f"xstest/{r['model']}",
            r["id"],
            request=r["request"],
            response=r["response"],
            label=r["human_label"],
        )
        for r in _jsonl(folder / "xstest-dev.jsonl")
    ]
    out += [
        Example(
            study_family(r["run"]),
            r["id"],
            request=r["request"],
            response=r["response"],
            label=adjudicated.get(r["id"], r["study_label"]),
        )
        for r in _jsonl(folder / "study-evals-dev.jsonl")
        if r["run"] not in kept_out
    ]
    out += [
        Example(
            "study/refusals", r["id"], request=r["request"], response=r["response"], label="REFUSAL"
        )
        for r in _jsonl(folder / "study-refusals-dev.jsonl")
    ]
    return out


def load_lecture() -> list[Example]:
    """The credo-written chat-model lectures the shipped weights train on (never scored)."""
    return load_synthetic(LECTURE, "credo/lecture")


def training_examples(
    folder: Path | None = None, upto_round: int = ADJUDICATION_ROUND
) -> list[Example]:
    """What the shipped weights are fitted on: the real labelled answers plus the lectures."""
    real = load_examples(folder, upto_round=upto_round)
    return real + load_lecture() if real else []


def load_extra(path: Path) -> list[Example]:
    """Labels of your own: one JSON object a line with request (or prompt), response, label."""
    out = []
    for n, row in enumerate(_jsonl(path), 1):
        label = str(row.get("label", "")).strip().upper()
        request = row.get("request", row.get("prompt"))
        if label not in CLASSES or not isinstance(row.get("response"), str):
            raise CorpusError(
                f"{path}:{n}: needs 'response' and 'label' (one of {', '.join(CLASSES)}); got "
                f"label {row.get('label')!r}"
            )
        out.append(
            Example(
                f"extra/{path.stem}",
                str(row.get("id", n)),
                request=request or "",
                response=row["response"],
                label=label,
            )
        )
    return out


def manifest_sha256(examples: Sequence[Example]) -> str:
    """The sha256 of the sorted (source, id, label) rows: what the weights were fitted on."""
    lines = sorted(f"{e.source}\t{e.id}\t{e.label}" for e in examples)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _weights(examples: Sequence[Example]) -> np.ndarray:
    """Each source weighs the same in total, so the biggest source does not set the line."""
    sources = [e.source for e in examples]
    counts = {s: sources.count(s) for s in set(sources)}
    w = np.array([len(examples) / (len(counts) * counts[s]) for s in sources])
    return w


def _fit_raw(examples: Sequence[Example], c: float = C) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    x = to_sparse([e.request for e in examples], [e.response for e in examples])
    y = np.array([CLASSES.index(e.label) for e in examples])
    model = LogisticRegression(C=c, max_iter=1000, tol=1e-4)
    model.fit(x, y, sample_weight=_weights(examples))
    weights = np.zeros((x.shape[1], len(CLASSES)))
    intercept = np.full(len(CLASSES), -30.0)  # a class absent from training is never predicted
    if len(model.classes_) == 2:  # sklearn fits one logit difference for two classes
        weights[:, model.classes_[1]] = model.coef_[0]
        intercept[model.classes_] = (0.0, model.intercept_[0])
    else:
        weights[:, model.classes_] = model.coef_.T
        intercept[model.classes_] = model.intercept_
    return weights, intercept


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the log loss of out-of-source logits (a 1-D search)."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-3, 3), method="bounded").x))


def fit(
    examples: Sequence[Example], c: float = C, meta: dict[str, Any] | None = None
) -> RefusalClassifier:
    """Weights on every example; the temperature on out-of-source logits: sources split
    into (at most) three groups, each predicted by a fit on the other two."""
    weights, intercept = _fit_raw(examples, c)
    sources = sorted({e.source for e in examples})
    groups = [sources[i::3] for i in range(min(3, len(sources)))]
    oof_logits, oof_y = [], []
    for held in groups if len(groups) > 1 else []:
        train = [e for e in examples if e.source not in held]
        test = [e for e in examples if e.source in held]
        inner = RefusalClassifier(*_fit_raw(train, c))
        oof_logits.append(inner.logits([e.request for e in test], [e.response for e in test]))
        oof_y += [CLASSES.index(e.label) for e in test]
    temperature = fit_temperature(np.vstack(oof_logits), np.array(oof_y)) if oof_logits else 1.0
    info = {
        "version": VERSION,
        "hash_bits": HASH_BITS,
        "c": c,
        "n": len(examples),
        "sources": {s: sum(e.source == s for e in examples) for s in sources},
        "data_manifest_sha256": manifest_sha256(examples),
        **(meta or {}),
    }
    return RefusalClassifier(weights, intercept, temperature, info)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--real-outputs", type=Path, help="default: ../shared/real-outputs")
    parser.add_argument(
        "--extra", type=Path, action="append", default=[], help="your labels (JSONL)"
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="add credo's own labelled pairs (judge card)"
    )
    parser.add_argument(
        "--round",
        type=int,
        default=ADJUDICATION_ROUND,
        help=f"hand adjudications up to this round (default {ADJUDICATION_ROUND}, the shipped one)",
    )
    args = parser.parse_args(argv)
    examples = training_examples(args.real_outputs, upto_round=args.round)
    if not examples:
        print(
            "no real outputs found (../shared/real-outputs or $CREDO_REAL_OUTPUTS)", file=sys.stderr
        )
        return 2
    if args.synthetic:
        examples += load_synthetic()
    for path in args.extra:
        examples += load_extra(path)
    model = fit(examples)
    model.save(args.out)
    print(
        f"wrote {args.out}: {model.meta['n']} examples, temperature {model.temperature:.3f}, "
        f"data manifest sha256 {model.meta['data_manifest_sha256'][:16]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
