"""Real model outputs for calibrating the judge, read from outside the repository.

The original study's eval responses live in ``../shared/real-outputs`` (or wherever
``CREDO_REAL_OUTPUTS`` points). Their text must never be copied into credo, so this module
only *reads* them; the repository keeps ids, run names and labels. Everything here returns
nothing when the folder is absent, so benches and tests can skip cleanly.

The split is by run (``credo/data/real_splits.json``): no run is both used to develop the
judge and scored as held out.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from credo.errors import CredoError

SPLITS = Path(__file__).parents[1] / "data" / "real_splits.json"
EVALS = "study-evals-dev.jsonl"


def real_outputs_dir() -> Path | None:
    """The real-outputs folder, or None when this checkout has no access to it."""
    env = os.environ.get("CREDO_REAL_OUTPUTS")
    candidates = (
        [Path(env)] if env else [Path(__file__).parents[2].parent / "shared" / "real-outputs"]
    )
    return next((p for p in candidates if (p / EVALS).is_file()), None)


def load_evals(folder: Path | None = None) -> list[dict[str, Any]]:
    """Every row of the study's eval file (empty when the folder is absent)."""
    folder = folder or real_outputs_dir()
    if folder is None:
        return []
    path = folder / EVALS
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise CredoError(
                f"{path}:{n}: not valid JSON ({exc.msg}); fix or remove that line"
            ) from exc
    return rows


def make_split(runs: list[str]) -> dict[str, list[str]]:
    """Deterministic split by run: within each request set (control vs violation), runs
    sorted by sha256 of their name, every third one from the second held out.

    The offset (second, not first) was chosen once, before any scoring, so that both
    splits hold every model family and a run the study labelled DEFLECTION.
    """
    heldout: list[str] = []
    for control in (True, False):
        stratum = sorted(
            (r for r in runs if ("accept" in r.lower()) == control),
            key=lambda r: hashlib.sha256(r.encode()).hexdigest(),
        )
        heldout += stratum[1::3]
    return {"dev": sorted(set(runs) - set(heldout)), "heldout": sorted(heldout)}


def load_split() -> dict[str, list[str]]:
    return json.loads(SPLITS.read_text(encoding="utf-8"))["runs"]


def split_rows(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    """Rows of one split ("dev", "heldout" or "all"), in file order."""
    if split == "all":
        return rows
    runs = set(load_split()[split])
    return [r for r in rows if r["run"] in runs]
