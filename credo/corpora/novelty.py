"""The leakage (novelty) verdict of a worldview, kept where a corpus' card can find it.

``credo leakage`` checks a worldview's distinctive terms and canon (and optionally a
corpus' answers) against pretraining-like reference text. Its full report goes to ``--out``;
:func:`save_verdict` also keeps a small summary under ``$CREDO_HOME/leakage/verdicts``, named
by the worldview's spec hash. A corpus generated from that spec (its manifest records the
hash) then finds the verdict with :func:`find_verdict`, as does a report the user wrote into
``CORPUS/leakage``. A verdict of another spec version never speaks for the corpus; the
corpus' own 13-gram overlap is stated only when it was measured on these exact records.

Nothing here names a path of the machine: references appear by file name only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from credo.corpora.io import write_json
from credo.paths import credo_home

LEAKAGE_FOLDER = "leakage"  # CORPUS/leakage/report.json: `credo leakage ... --out CORPUS/leakage`


def verdicts_dir() -> Path:
    return credo_home() / "leakage" / "verdicts"


def verdict_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The facts of a ``credo leakage`` report a card states: the gate, how many terms were
    checked and collided, the n-gram overlaps, and the reference's size and strength."""
    worldview, reference = report.get("worldview") or {}, report.get("reference") or {}
    terms = report.get("terms") or []
    overlap = report.get("overlap") or {}
    strength = report.get("strength") or {}

    def fraction(group: str) -> float | None:
        stats = overlap.get(group) or {}
        return stats.get("fraction")

    return {
        "worldview": worldview.get("name"),
        "kind": worldview.get("kind"),
        "spec_hash": worldview.get("spec_hash"),
        "gate": report.get("gate") or {},
        "terms": len(terms),
        "colliding": sum(1 for t in terms if t.get("verdict") == "collides"),
        "n": (report.get("settings") or {}).get("n"),
        "canon_overlap": fraction("canon"),
        "corpus_overlap": fraction("corpus"),
        "corpus": report.get("corpus"),  # {"name", "records_hash"} when --corpus was given
        "reference": {
            "sources": [Path(str(s)).name for s in reference.get("sources") or []],
            "tokens": reference.get("tokens"),
            "documents": reference.get("documents"),
        },
        "weak": bool(strength.get("weak")),
        "strength": strength.get("statement"),
    }


def _key(spec_hash: str) -> str:
    return spec_hash.replace(":", "-").replace("/", "-")


def save_verdict(report: dict[str, Any]) -> Path | None:
    """Keep the report's summary for the cards of corpora made from this spec (the latest
    check of a spec replaces the one before); None when the report names no spec hash."""
    summary = verdict_summary(report)
    if not summary["spec_hash"]:
        return None
    path = verdicts_dir() / f"{_key(str(summary['spec_hash']))}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(summary, path)
    return path


def find_verdict(spec_hash: str | None, corpus_dir: Path) -> dict[str, Any] | None:
    """The leakage verdict of the spec a corpus was made from: ``CORPUS/leakage/report.json``
    first, then the kept summaries; only one whose spec hash matches."""
    if not spec_hash:
        return None
    local = corpus_dir / LEAKAGE_FOLDER / "report.json"
    candidates: list[dict[str, Any]] = []
    if local.is_file():
        report = _read(local)
        if report is not None:
            candidates.append(verdict_summary(report))
    kept = verdicts_dir() / f"{_key(spec_hash)}.json"
    if kept.is_file():
        summary = _read(kept)
        if summary is not None:
            candidates.append(summary)
    return next((c for c in candidates if c.get("spec_hash") == spec_hash), None)


def describe(verdict: dict[str, Any] | None, records_hash: str | None) -> str:
    """One line for a card: the verdict, its figures and what it was measured against."""
    if verdict is None:
        return (
            "not checked for this spec (run `credo leakage WORLDVIEW --reference ...`; "
            "its verdict is kept for the cards of corpora made from that spec)"
        )
    gate = verdict.get("gate") or {}
    terms, colliding = verdict.get("terms") or 0, verdict.get("colliding") or 0
    if not gate.get("applies"):
        head = f"not applicable (a {verdict.get('kind') or 'real'} worldview, not an invented one)"
    elif gate.get("failed"):
        collisions = gate.get("collisions") or []
        head = (
            f"FAILED: {len(collisions)} of {terms} distinctive terms found in the reference "
            f"({', '.join(collisions)})"
        )
    else:
        head = f"passed: {colliding} of {terms} distinctive terms found in the reference"
        if colliding:
            head += " (each allowed by the spec)"
    figures = []
    n = verdict.get("n") or 13
    if verdict.get("canon_overlap") is not None:
        figures.append(f"canon {n}-gram overlap {_pct(verdict['canon_overlap'])}")
    corpus = verdict.get("corpus") or {}
    if verdict.get("corpus_overlap") is not None and corpus.get("records_hash") == records_hash:
        figures.append(f"these records' {n}-gram overlap {_pct(verdict['corpus_overlap'])}")
    reference = verdict.get("reference") or {}
    sources = ", ".join(f"`{s}`" for s in reference.get("sources") or []) or "?"
    tokens = reference.get("tokens")
    against = f"reference {sources}" + (f", {tokens:,} tokens" if tokens else "")
    if verdict.get("weak"):
        against += f"; weak: {verdict.get('strength')}"
    return f"{head}; {'; '.join([*figures, against])}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
