"""Scoring the fidelity detector on hand-labelled real answers, one source left out at a time.

The protocol is written down in docs/fidelity-card.md. The positive class is *unfaithful*
(what the check flags); each held-out source gets flag precision and recall and the precision
of ``faithful``, each with a percentile bootstrap interval. A figure whose denominator is
empty is ``None`` (undefined), never a flattering 1.0.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from credo.errors import CredoError

DATA = Path(__file__).resolve().parent / "data"
REAL_LABELS = DATA / "fidelity_real_labels.jsonl"
WRITTEN = DATA / "fidelity_labelled.jsonl"
FAITHFUL, UNFAITHFUL = "faithful", "unfaithful"
# Where each source's text lives when the labels file holds ids only (the study's text may
# not be copied into the repository).
SHARED_FILES = {"study-": "study-evals-dev.jsonl", "study-refusals": "study-refusals-dev.jsonl"}


def real_outputs() -> Path:
    """``../shared/real-outputs`` beside the checkout (or ``$CREDO_REAL_OUTPUTS``); may be absent."""
    env = os.environ.get("CREDO_REAL_OUTPUTS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "real-outputs"


class FidelityLabelsError(CredoError):
    """A labels file row that cannot be read."""


@dataclass(frozen=True)
class Labelled:
    id: str
    source: str
    worldview: str
    faithful: bool
    prompt: str
    response: str


def _shared_file(source: str) -> str:
    return SHARED_FILES.get(source) or next(
        (f for prefix, f in SHARED_FILES.items() if source.startswith(prefix)), ""
    )


def load_labelled(
    path: Path = REAL_LABELS, shared: Path | None = None, *, written: bool = True
) -> tuple[list[Labelled], list[str]]:
    """The labelled answers, their text filled in from ``shared`` where the file holds ids only.

    Returns the rows and the sources skipped because their text is not here (no ../shared).
    ``written`` adds the answers written for credo as the source ``credo-written``.
    """
    shared = shared if shared is not None else real_outputs()
    texts: dict[str, dict[str, dict[str, Any]]] = {}
    rows, skipped = [], set()
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            source, label = raw["source"], raw["label"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise FidelityLabelsError(
                f"{path}:{n}: not a labels row ({exc}); each line needs id, source, worldview, label"
            ) from exc
        if label not in (FAITHFUL, UNFAITHFUL):
            raise FidelityLabelsError(
                f"{path}:{n}: label {label!r}; use {FAITHFUL!r} or {UNFAITHFUL!r}"
            )
        if "response" not in raw:
            name = _shared_file(source)
            if name not in texts:
                file = shared / name
                texts[name] = (
                    {
                        r["id"]: r
                        for r in map(json.loads, file.read_text(encoding="utf-8").splitlines())
                    }
                    if name and file.is_file()
                    else {}
                )
            found = texts[name].get(raw["id"])
            if found is None:
                skipped.add(source)
                continue
            raw = {**raw, "prompt": found["request"], "response": found["response"]}
        rows.append(
            Labelled(
                raw["id"],
                source,
                worldview=raw["worldview"],
                faithful=label == FAITHFUL,
                prompt=raw.get("prompt", ""),
                response=raw["response"],
            )
        )
    if written:
        for line in WRITTEN.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append(
                    Labelled(
                        r["id"],
                        "credo-written",
                        worldview=r["worldview"],
                        faithful=r["label"] == FAITHFUL,
                        prompt=r["prompt"],
                        response=r["response"],
                    )
                )
    return rows, sorted(skipped)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def rates(gold_faithful: np.ndarray, called_faithful: np.ndarray) -> dict[str, float | None]:
    """Flag precision and recall (positive: unfaithful) and the precision of ``faithful``."""
    flag, bad = ~called_faithful, ~gold_faithful
    return {
        "precision": _ratio(float(np.sum(flag & bad)), float(np.sum(flag))),
        "recall": _ratio(float(np.sum(flag & bad)), float(np.sum(bad))),
        "faithful_precision": _ratio(
            float(np.sum(called_faithful & gold_faithful)), float(np.sum(called_faithful))
        ),
    }


@dataclass(frozen=True)
class SourceScore:
    source: str
    n: int
    unfaithful: int
    point: dict[str, float | None]
    interval: dict[str, tuple[float, float] | None]

    def meets(self, bar: float = 0.9) -> bool:
        """Flag precision and recall at the bar (an undefined figure does not fail it)."""
        return all(
            self.point[k] is None or float(self.point[k] or 0) >= bar
            for k in ("precision", "recall")
        )

    def to_json(self) -> dict[str, Any]:
        def fmt(key: str) -> dict[str, Any]:
            value, ci = self.point[key], self.interval[key]
            return {
                "value": None if value is None else round(value, 3),
                "ci95": None if ci is None else [round(ci[0], 3), round(ci[1], 3)],
            }

        return {
            "source": self.source,
            "n": self.n,
            "unfaithful": self.unfaithful,
            **{k: fmt(k) for k in ("precision", "recall", "faithful_precision")},
        }


def score_source(
    source: str,
    gold_faithful: Sequence[bool],
    called_faithful: Sequence[bool],
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> SourceScore:
    """Point figures and 95% percentile bootstrap intervals over the source's rows."""
    gold, called = np.asarray(gold_faithful, bool), np.asarray(called_faithful, bool)
    if gold.shape != called.shape:
        raise ValueError("one verdict per labelled answer")
    point = rates(gold, called)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(resamples):
        idx = rng.integers(0, len(gold), len(gold))
        for key, value in rates(gold[idx], called[idx]).items():
            if value is not None:  # a resample with an empty denominator says nothing
                draws[key].append(value)
    interval: dict[str, tuple[float, float] | None] = {
        k: (
            (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
            if point[k] is not None and v
            else None
        )
        for k, v in draws.items()
    }
    return SourceScore(
        source, len(gold), unfaithful=int(np.sum(~gold)), point=point, interval=interval
    )


Predictor = Callable[[Sequence[Labelled]], list[bool]]  # rows -> "called faithful" per row


def leave_one_source_out(
    rows: Sequence[Labelled],
    fit: Callable[[Sequence[Labelled]], Predictor] | None = None,
    predict: Predictor | None = None,
    *,
    resamples: int = 2000,
) -> list[SourceScore]:
    """Each source scored by a detector that never saw it.

    ``fit`` trains on the other sources and returns a predictor; a detector with nothing
    learned passes ``predict`` alone and is scored on each source as is.
    """
    if (fit is None) == (predict is None):
        raise ValueError("pass fit (a learned detector) or predict (a fixed one)")
    out = []
    for source in sorted({r.source for r in rows}):
        held = [r for r in rows if r.source == source]
        if fit is not None:
            predictor = fit([r for r in rows if r.source != source])
        else:
            assert predict is not None
            predictor = predict
        out.append(
            score_source(source, [r.faithful for r in held], predictor(held), resamples=resamples)
        )
    return out
