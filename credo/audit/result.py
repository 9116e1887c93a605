"""What an audit produced (:class:`AuditResult`) and the tables every report renders.

The runner builds the result; the Markdown, JSON and HTML reports only read it, so this
module imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credo.filters.base import ActTerms, Finding


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
    findings: list[Finding]
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
        """One entry per flagged record: ``{"id", "checks", "blocking", "details"}`` in corpus
        order; ``blocking`` lists the checks whose finding fails a gate or counts as one."""
        grouped: dict[str, dict[str, Any]] = {}
        for f in self.findings:
            entry = grouped.setdefault(
                f.record_id, {"id": f.record_id, "checks": [], "blocking": [], "details": {}}
            )
            entry["checks"].append(f.check)
            if f.blocking:
                entry["blocking"].append(f.check)
            entry["details"][f.check] = f.details
        return list(grouped.values())


def verdict(result: AuditResult) -> str:
    if result.passed:
        return "PASS - no gate failed"
    failed = ", ".join(f"{name} ({count})" for name, count in result.gate_failures.items())
    return f"FAIL - gates failed: {failed}"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    note: str = ""
