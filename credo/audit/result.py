"""What an audit produced (:class:`AuditResult`) and the tables every report renders.

The runner builds the result; the Markdown, JSON and HTML reports only read it, so this
module imports none of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from credo.audit.findings import FindingStore
from credo.filters.base import ActTerms, Finding
from credo.filters.report import CheckReport, Table

__all__ = [
    "TABLES_DIR",
    "AuditResult",
    "CheckRun",
    "Table",
    "check_report",
    "verdict",
    "word_diff",
]

TABLES_DIR = "tables"  # an audit folder's full rows of every table a report cuts short


@dataclass
class CheckRun:
    name: str
    gate: bool
    params: dict[str, Any]
    flagged: int
    seconds: float
    blocking: int = 0  # flagged records whose finding fails the gate (see Finding.blocking)


@dataclass
class AuditResult:
    source: str
    source_hash: str
    records: int
    sets: dict[str, int]
    checks: list[CheckRun]
    # a list (built by hand, small) or, from an audit, the store on disk that pages through them
    findings: list[Finding] | FindingStore
    sections: dict[str, Any]
    evals: int = 0
    acts: list[ActTerms] = field(default_factory=list)

    @property
    def gate_failures(self) -> dict[str, int]:
        return {c.name: c.blocking for c in self.checks if c.gate and c.blocking}

    @property
    def passed(self) -> bool:
        return not self.gate_failures

    def flags(self) -> list[dict[str, Any]]:
        """One entry per flagged record: ``{"id", "checks", "blocking", "details"}``, records in
        the order of their first finding; ``blocking`` lists the checks whose finding fails a
        gate or counts as one. All in memory: writers page through :meth:`iter_flags`."""
        return list(self.iter_flags())

    def iter_flags(self) -> Iterator[dict[str, Any]]:
        """:meth:`flags` one entry at a time (read from the store, a page at a time)."""
        if isinstance(self.findings, FindingStore):
            return self.findings.flags()
        grouped: dict[str, dict[str, Any]] = {}
        for f in self.findings:
            entry = grouped.setdefault(
                f.record_id, {"id": f.record_id, "checks": [], "blocking": [], "details": {}}
            )
            entry["checks"].append(f.check)
            if f.blocking:
                entry["blocking"].append(f.check)
            entry["details"][f.check] = f.details
        return iter(grouped.values())

    def findings_of(self, check: str) -> Sequence[Finding]:
        """One check's findings, in order (read lazily from a store)."""
        if isinstance(self.findings, FindingStore):
            return self.findings.of_check(check)
        return [f for f in self.findings if f.check == check]

    def flagged_records(self) -> int:
        if isinstance(self.findings, FindingStore):
            return self.findings.flagged_records()
        return len({f.record_id for f in self.findings})


def verdict(result: AuditResult) -> str:
    if result.passed:
        return "PASS - no gate failed"
    failed = ", ".join(f"{name} ({count})" for name, count in result.gate_failures.items())
    return f"FAIL - gates failed: {failed}"


def check_report(result: AuditResult, name: str) -> CheckReport:
    run = next((c for c in result.checks if c.name == name), None)
    return CheckReport(
        name,
        result.findings_of(name),
        result.sections.get(name) or {},
        run.params if run else {},
    )


def word_diff(a: str, b: str) -> list[tuple[str, str, str]]:
    """``(kind, words of a, words of b)`` runs: kind "same" or "diff" (the words that differ)."""
    from difflib import SequenceMatcher

    left, right = a.split(), b.split()
    runs = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        kind = "same" if op == "equal" else "diff"
        runs.append((kind, " ".join(left[i1:i2]), " ".join(right[j1:j2])))
    return runs
