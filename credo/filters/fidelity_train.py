"""Training the fidelity detector's learned layer on hand-labelled answers.

The runtime (:mod:`credo.filters.fidelity_model`) only reads shipped weights; fitting them
needs the rules detector and the labelled set beside it, so it lives here, above both.
``bench/fidelity_train.py`` writes the shipped weights with :func:`fit_cascade`;
``bench/fidelity_real.py`` scores :func:`fit_rows` one source left out at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

import numpy as np

from credo.filters.fidelity import FidelityDetector, shipped_profiles
from credo.filters.fidelity_eval import Labelled
from credo.filters.fidelity_model import FEATURES, FidelityModel, calls_faithful, features


def training_hash(rows: Sequence[Labelled]) -> str:
    """sha256 over the training rows' ids, sources, worldviews, labels and text, in order."""
    digest = hashlib.sha256()
    for r in rows:
        digest.update(
            json.dumps([r.id, r.source, r.worldview, r.faithful, r.prompt, r.response]).encode()
        )
        digest.update(b"\n")
    return digest.hexdigest()


def _detectors() -> dict[str, FidelityDetector]:
    profiles = shipped_profiles()
    return {name: FidelityDetector(p, profiles) for name, p in profiles.items()}


_SETTLED: dict[tuple[str, str, str], bool] = {}  # whether the rules settle a labelled answer
_ROWS: dict[tuple[str, str, str], list[float]] = {}  # feature rows of labelled answers, per process


def matrix(rows: Sequence[Labelled]) -> np.ndarray:
    """Feature rows of labelled answers (each computed once: the protocol refits per source)."""
    detectors = _detectors()
    for r in rows:
        key = (r.worldview, r.prompt, r.response)
        if key not in _ROWS:
            _ROWS[key] = features(detectors[r.worldview], r.response, r.prompt)
    return np.array([_ROWS[(r.worldview, r.prompt, r.response)] for r in rows])


WRITTEN_WEIGHT = 0.5  # answers written for credo count half: the real ones are what it must read


def fit(rows: Sequence[Labelled], x: np.ndarray | None = None, c: float = 1.0) -> FidelityModel:
    """Train on labelled rows (sklearn's logistic regression, balanced classes)."""
    from sklearn.linear_model import LogisticRegression

    x = matrix(rows) if x is None else x
    y = np.array([r.faithful for r in rows], int)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    weight = np.array([WRITTEN_WEIGHT if r.source == "credo-written" else 1.0 for r in rows])
    lr.fit((x - mean) / scale, y, sample_weight=weight)
    return FidelityModel(
        tuple(float(v) for v in lr.coef_[0]),
        float(lr.intercept_[0]),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        training_sha256=training_hash(rows),
        training_rows=len(rows),
    )


def _decisive(rows: Sequence[Labelled]) -> list[bool]:
    """Rows the rules settle on their own (``credo.filters.fidelity.DECISIVE``, echoes, blame of the honoured): the model never sees them."""
    detectors = _detectors()
    key = [(r.worldview, r.prompt, r.response) for r in rows]
    for k in key:
        if k not in _SETTLED:
            _SETTLED[k] = detectors[k[0]].settled(k[2], k[1]) is not None
    return [_SETTLED[k] for k in key]


def fit_cascade(rows: Sequence[Labelled]) -> FidelityModel:
    """Train on the rows the rules leave open, as the detector will use the model."""
    kept = [r for r, d in zip(rows, _decisive(rows)) if not d]
    return fit(kept)


def fit_rows(rows: Sequence[Labelled]) -> Callable[[Sequence[Labelled]], list[bool]]:
    """For the protocol: train on ``rows``, return a predictor (rows -> called faithful)."""
    model = fit_cascade(rows)

    def predict(held: Sequence[Labelled]) -> list[bool]:
        rules_faithful = FEATURES.index("rule_faithful")
        return [
            not d and calls_faithful(model, model.probability(x), bool(x[rules_faithful]))
            for x, d in zip(matrix(held), _decisive(held))
        ]

    return predict
