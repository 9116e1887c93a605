"""The leakage (novelty) verdict of a worldview, kept where a corpus' card can find it.

``credo leakage`` checks a worldview's distinctive terms and canon (and optionally a
corpus' answers) against pretraining-like reference text. Its full report goes to ``--out``;
:func:`save_verdict` also appends a small summary of every check (its date, verdict and
figures) to a history under ``$CREDO_HOME/leakage/verdicts``, one file per spec hash. A
corpus generated from that spec (its manifest records the hash) then finds the latest
verdict, and how many checks came before it, with :func:`find_verdict`, as does a report the
user wrote into ``CORPUS/leakage``. A verdict of another spec version never speaks for the
corpus; the corpus' own 13-gram overlap is stated only when it was measured on these exact
records.

Nothing here names a path of the machine: references appear by file name only.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from credo.errors import CorpusError
from credo.paths import credo_home
from credo.schema import NonNegativeInt, PositiveInt, Strict, validate

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

    gate = report.get("gate") or {}
    return {
        "checked_at": report.get("checked_at"),  # when the check ran (UTC), None if unrecorded
        "verdict": _verdict_word(gate),
        "worldview": worldview.get("name"),
        "kind": worldview.get("kind"),
        "spec_hash": worldview.get("spec_hash"),
        "gate": gate,
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


class _Gate(Strict):
    failed: StrictBool = False
    collisions: tuple[str, ...] = ()
    applies: StrictBool = True


class _Reference(Strict):
    sources: tuple[str, ...] = ()
    tokens: NonNegativeInt | None = None
    documents: NonNegativeInt | None = None


class _Corpus(Strict):
    name: str | None = None
    records_hash: str | None = None


Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class KeptVerdict(Strict):
    """One kept check, as :func:`verdict_summary` writes it (round 5's had no date or verdict)."""

    checked_at: str | None = None
    verdict: Literal["passed", "FAILED", "not applicable"] | None = None
    worldview: str | None = None
    kind: str | None = None
    spec_hash: str
    gate: _Gate = _Gate()
    terms: NonNegativeInt = 0
    colliding: NonNegativeInt = 0
    n: PositiveInt | None = None
    canon_overlap: Fraction | None = None
    corpus_overlap: Fraction | None = None
    corpus: _Corpus | None = None
    reference: _Reference = _Reference()
    weak: StrictBool = False
    strength: str | None = None


def _checked(summary: Any, where: str) -> dict[str, Any]:
    """``summary`` if it has a kept verdict's shape, else one line naming ``where``."""
    hint = "delete it (or that line) and rerun `credo leakage` for this spec"
    return validate(KeptVerdict, summary, where, error=CorpusError, hint=hint).model_dump(
        mode="json"
    )


def _verdict_word(gate: dict[str, Any]) -> str:
    if not gate.get("applies", True):
        return "not applicable"
    return "FAILED" if gate.get("failed") else "passed"


def _key(spec_hash: str) -> str:
    return spec_hash.replace(":", "-").replace("/", "-")


def history_path(spec_hash: str) -> Path:
    """The spec's history of checks: one summary a line, oldest first."""
    return verdicts_dir() / f"{_key(spec_hash)}.jsonl"


def save_verdict(report: dict[str, Any]) -> Path | None:
    """Append the report's summary to its spec's history (for the cards of corpora made from
    this spec, which state the latest and count the rest); None when it names no spec hash."""
    summary = verdict_summary(report)
    if not summary["spec_hash"]:
        return None
    path = history_path(str(summary["spec_hash"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(summary, ensure_ascii=False, sort_keys=True) + "\n"
    # one write to a file opened for appending: runs of the same spec at once never
    # interleave their lines, and a run killed mid-write leaves at most one unreadable line
    with path.open("a+b") as history:
        if history.tell():  # appending: the end of the file
            history.seek(-1, 2)
            if history.read(1) != b"\n":  # a torn last line: end it, so this one stays whole
                line = "\n" + line
        history.write(line.encode("utf-8"))
    return path


def verdict_history(spec_hash: str) -> list[dict[str, Any]]:
    """Every kept check of the spec, oldest first; a line that cannot be read (a run killed
    while writing it) is skipped. Round 5 kept only the latest, as ``<key>.json``: it counts
    as the first check."""
    runs: list[dict[str, Any]] = []
    legacy = verdicts_dir() / f"{_key(spec_hash)}.json"
    if legacy.is_file():
        summary = _read(legacy)
        if summary is not None:
            runs.append(_checked(summary, str(legacy)))
    path = history_path(spec_hash)
    if path.is_file():
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, text in enumerate(lines, 1):
            try:
                summary = json.loads(text)
            except json.JSONDecodeError:
                continue  # torn by a killed run: a whole line is always a JSON object
            runs.append(_checked(summary, f"{path} line {number}"))
    return [r for r in runs if r.get("spec_hash") == spec_hash]


def find_verdict(spec_hash: str | None, corpus_dir: Path) -> dict[str, Any] | None:
    """The latest leakage verdict of the spec a corpus was made from (``CORPUS/leakage/
    report.json`` first, then the kept history; only one whose spec hash matches), with
    ``earlier``: the verdicts of the spec's other kept checks, oldest first."""
    if not spec_hash:
        return None
    history = verdict_history(spec_hash)
    local = corpus_dir / LEAKAGE_FOLDER / "report.json"
    report = _read(local) if local.is_file() else None
    latest = _local_summary(report, local) if report is not None else None
    if latest is None or latest.get("spec_hash") != spec_hash:
        latest = history[-1] if history else None
    if latest is None:
        return None
    # the folder's report is usually also in the history (the run that wrote it kept it)
    earlier = [r for r in history if not _same_run(r, latest)]
    return {
        **latest,
        "earlier": [r.get("verdict") or _verdict_word(r.get("gate") or {}) for r in earlier],
    }


def _local_summary(report: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The summary of a corpus folder's own ``credo leakage`` report; None for a report of
    another spec (or none at all); one line naming the file for one of the wrong shape."""
    try:
        summary = verdict_summary(report)
    except (AttributeError, TypeError):  # a section of the wrong type: "gate": "yes"
        summary = None
    if summary is None or summary["spec_hash"] is None:
        if summary is None or report.get("worldview") is not None:
            raise CorpusError(
                f"{path}: not a `credo leakage` report - rerun `credo leakage WORLDVIEW "
                f"--reference ... --out {path.parent.name}` or remove the file"
            )
        return None
    return _checked(summary, str(path))


def _same_run(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # the whole summary, not the time alone: checks are dated to the second, and two runs
    # of one spec within a second (a fast machine, a script) are still two checks
    return a == b


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
    return f"{head}; {'; '.join([*figures, against, _when(verdict)])}"


def _when(verdict: dict[str, Any]) -> str:
    """When the stated check ran, and how many checks of the spec came before it."""
    checked = str(verdict.get("checked_at") or "")[:10] or "date not recorded"
    earlier = verdict.get("earlier") or []
    if not earlier:
        return f"checked {checked}, the spec's only check"
    tally = ", ".join(f"{n} {word}" for word, n in Counter(earlier).items())
    runs = "check" if len(earlier) == 1 else "checks"
    return f"checked {checked}, the latest of {len(earlier) + 1}: {len(earlier)} earlier {runs} ({tally})"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
