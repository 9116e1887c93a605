"""``truncation``: answers the teacher stopped at the token limit, not at their end.

A record whose ``meta.stop_reason`` is ``length`` ends mid-sentence; trained on, it teaches
the model to stop mid-thought. The check flags every such record, tallies them per set, and
fails the gate for a set whose truncated share exceeds ``max_rate`` (default 0: any truncated
answer fails; ``credo filter`` drops them). Records without a stop reason (imported data, not
made by ``credo generate``) are counted as unknown and never flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from credo.defaults import TRUNCATION_MAX_RATE
from credo.filters.base import AuditContext, Batched, Corpus, Finding, rereadable
from credo.filters.report import CheckReport, FindingsTable, Table
from credo.filters.spec import CheckSpec
from credo.types import Record

TRUNCATED = "length"


def _tally() -> dict[str, int]:
    return {"records": 0, "truncated": 0, "unknown": 0}


@dataclass
class TruncationCheck(Batched):
    """Flag records that stopped at max tokens; gate a set on its truncated share."""

    max_rate: float = TRUNCATION_MAX_RATE  # the gate fails above this share of a set's records
    name: str = "truncation"

    def params(self) -> dict[str, Any]:
        return {"max_rate": self.max_rate}

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> dict[str, Any]:
        tallies: dict[str, dict[str, int]] = {}
        truncated: list[tuple[str, str, Any]] = []
        for record in records:
            set_name = ctx.set_of(record)
            tally = tallies.setdefault(set_name, _tally())
            tally["records"] += 1
            reason = record.meta.get("stop_reason")
            if reason is None:
                tally["unknown"] += 1
            elif reason == TRUNCATED:
                tally["truncated"] += 1
                usage = record.meta.get("usage")
                tokens = usage.get("output_tokens") if isinstance(usage, dict) else None
                truncated.append((record.id, set_name, tokens))
        return {"tallies": tallies, "truncated": truncated}

    # The truncated records' ids stay on disk with their batches: the reduce reads the
    # partials twice (counts decide each set's gate, then the findings), holding one batch.
    spills_parts = True

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        parts = rereadable(parts)  # counted first, then read for the findings
        tallies: dict[str, dict[str, int]] = {}
        for _, part in parts:
            for set_name, tally in part["tallies"].items():
                mine = tallies.setdefault(set_name, _tally())
                for key, value in tally.items():
                    mine[key] += value
        sets: dict[str, dict[str, Any]] = {}
        for set_name in sorted(tallies):
            tally = tallies[set_name]
            rate = tally["truncated"] / tally["records"] if tally["records"] else 0.0
            sets[set_name] = {**tally, "rate": round(rate, 4), "gate_failed": rate > self.max_rate}
        ctx.sections[self.name] = {
            "params": self.params(),
            "sets": sets,
            "truncated": sum(s["truncated"] for s in sets.values()),
        }
        for _, part in parts:  # in corpus order, as the batches came
            for record_id, set_name, tokens in part["truncated"]:
                yield Finding(
                    record_id,
                    self.name,
                    {"set": set_name, "stop_reason": TRUNCATED, "output_tokens": tokens},
                    blocking=sets[set_name]["gate_failed"],
                )


def truncation_table(report: CheckReport) -> list[Table]:
    """Per set: answers cut off at max tokens, their share, and the gate."""
    section = report.section
    if not section:
        return []
    max_rate = section["params"]["max_rate"]
    return [
        Table(
            "Truncated answers (stopped at max tokens)",
            ["set", "records", "truncated", "rate", "no stop reason", "gate"],
            [
                [
                    name,
                    t["records"],
                    t["truncated"],
                    t["rate"],
                    t["unknown"],
                    "FAILED" if t["gate_failed"] else "ok",
                ]
                for name, t in section["sets"].items()
            ],
            f"{section['truncated']} truncated in all; the gate fails a set above {max_rate:g} "
            "(--truncation-max-rate); `credo filter` drops them",
        )
    ]


CHECKS = (
    CheckSpec(
        "truncation",
        TruncationCheck,
        gate=True,
        drops=True,
        order=85,
        summary="answers the teacher stopped at max tokens: training on them teaches stopping mid-thought",
        findings=FindingsTable(
            "Truncated records",
            ("set", "output_tokens"),
        ),
        tables=truncation_table,
    ),
)
