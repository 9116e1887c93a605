"""The fidelity detector's verdicts on real answers, as a digest a test compares with.

    PYTHONPATH=<tree> .venv/bin/python bench/fidelity_verdicts_digest.py OUT.json

Run from the tree whose decisions are the reference (a speed change must not move them):
every labelled real answer (``credo/filters/data/fidelity_real_labels.jsonl``, its study rows'
text read from ../shared/real-outputs, and the written set) against its own worldview and
against Gramenism, and every answer of the study's files in ../shared against Catholicism and
Gramenism. Each verdict is ``[verdict, digest, p]``: ``digest`` is the first 12 hex digits of
the sha256 of the evidence and the topic scores (the study's text may not be copied into the
repository; a digest of it may), ``p`` the learned model's p(faithful) from the feature row,
to 12 significant digits. A labelled row is ``[id, worldview, verdict, verdict against
Gramenism or null]``; a study file's rows are its answers in file order, two verdicts each,
beside the sha256 of its ids. ``tests/test_fidelity_speed.py`` reads it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from credo.filters.fidelity import FidelityDetector, shipped_profiles
from credo.filters.fidelity_eval import REAL_LABELS, load_labelled, real_outputs
from credo.filters.fidelity_model import features, shipped_model

# The worldviews each answer of the study's files is read against.
STUDY_WORLDVIEWS = ("catholicism", "gramenism")
STUDY_FILES = ("study-evals-dev.jsonl", "xstest-dev.jsonl", "study-refusals-dev.jsonl")


class Judge:
    """The verdicts of the tree on the path: one detector per shipped worldview."""

    def __init__(self) -> None:
        profiles = shipped_profiles()
        self.detectors = {name: FidelityDetector(p, profiles) for name, p in profiles.items()}
        model = shipped_model()
        assert model is not None
        self.model = model

    def __call__(self, worldview: str, prompt: str, response: str) -> list[Any]:
        """``[verdict, digest, p]`` of one answer read against one worldview."""
        detector = self.detectors[worldview]
        verdict = detector.verdict(response, prompt)
        p = self.model.probability(features(detector, response, prompt))
        return [verdict.label, digest(verdict.evidence, verdict.scores), float(f"{p:.12g}")]


def digest(evidence: str, scores: dict[str, float]) -> str:
    text = evidence + "\x00" + json.dumps(scores, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()


def labelled_rows(judge: Judge) -> list[list[Any]]:
    rows, skipped = load_labelled(REAL_LABELS)
    if skipped:
        raise SystemExit(f"../shared/real-outputs is needed (missing: {sorted(skipped)})")
    return [
        [
            r.id,
            r.worldview,
            judge(r.worldview, r.prompt, r.response),
            None if r.worldview == "gramenism" else judge("gramenism", r.prompt, r.response),
        ]
        for r in rows
    ]


def study_rows(judge: Judge, name: str) -> dict[str, Any]:
    lines = (real_outputs() / name).read_text(encoding="utf-8").splitlines()
    found = list(map(json.loads, lines))
    return {
        "ids_sha256": ids_digest([r["id"] for r in found]),
        "rows": [[judge(w, r["request"], r["response"]) for w in STUDY_WORLDVIEWS] for r in found],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    judge = Judge()
    parts = [f'"labelled": [\n{_lines(labelled_rows(judge))}\n]']
    for name in STUDY_FILES:
        study = study_rows(judge, name)
        parts.append(
            f'{json.dumps(name)}: {{"ids_sha256": "{study["ids_sha256"]}", "rows": [\n'
            f"{_lines(study['rows'])}\n]}}"
        )
    args.out.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
    print(json.loads(args.out.read_text(encoding="utf-8")).keys())


def _lines(rows: list[Any]) -> str:
    """One row a line: a diff of the file shows which answers moved."""
    return ",\n".join(json.dumps(row) for row in rows)


if __name__ == "__main__":
    main()
