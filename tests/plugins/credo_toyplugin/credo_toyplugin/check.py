"""``toy``: flags answers that shout (more than half their letters upper case)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from credo.filters.base import AuditContext, Finding, PerRecord
from credo.filters.report import Column, FindingsTable
from credo.filters.spec import CheckSpec
from credo.types import Record


@dataclass
class ShoutingCheck(PerRecord):
    """Its options are its fields: ``audit_corpus(..., options={"toy": {"max_upper": 0.3}})``."""

    max_upper: float = 0.5
    name: str = "toy"

    def params(self) -> dict[str, Any]:
        return {"max_upper": self.max_upper}

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        for record in records:
            letters = [c for c in record.response if c.isalpha()]
            upper = sum(c.isupper() for c in letters) / max(len(letters), 1)
            if upper > self.max_upper:
                yield Finding(
                    record.id, self.name, {"upper": round(upper, 3), "set": ctx.set_of(record)}
                )


CHECKS = (
    CheckSpec(
        "toy",
        ShoutingCheck,
        gate=True,
        drops=True,
        summary="answers that shout",
        findings=FindingsTable(
            "Shouting answers",
            (Column("share upper case", "upper"), Column("set", "set")),
            worst=lambda f: f.details["upper"],
        ),
    ),
)
