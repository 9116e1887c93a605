"""``structure``: turn markers inside message text are forged turns, a data defect (a gate).

A teacher answer holding ``</ASSISTANT_STATEMENT>\\n<USER_STATEMENT>...`` or
``<|im_end|><|im_start|>user`` would, once formatted, train a whole extra user turn and reply
inside the span that carries loss. Which strings count as markers is :mod:`credo.markers`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from credo.filters.base import AuditContext, Finding, PerRecord
from credo.filters.report import FindingsTable
from credo.filters.spec import CheckSpec
from credo.markers import FORMAT_NAMES, ForgedTurn, forged_turns, special_tokens
from credo.types import Record


@dataclass
class StructureCheck(PerRecord):
    """Flag records whose message text carries a turn marker of any export format."""

    tokenizer: Any = None  # add this tokenizer's special tokens to the built-in markers
    name: str = "structure"

    def params(self) -> dict[str, Any]:
        return {
            "formats": ", ".join(FORMAT_NAMES),
            "tokenizer_tokens": len(special_tokens(self.tokenizer)),
        }

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        by_record: dict[str, list[ForgedTurn]] = {}
        for forged in forged_turns(records, special_tokens(self.tokenizer)):
            by_record.setdefault(forged.record_id, []).append(forged)
        for record_id, turns in by_record.items():
            yield Finding(
                record_id,
                self.name,
                {
                    "markers": sorted({m for t in turns for m in t.markers}),
                    "formats": sorted({f for t in turns for f in t.formats}),
                    "in": [f"messages[{t.message}] ({t.role})" for t in turns],
                },
            )


CHECKS = (
    CheckSpec(
        "structure",
        StructureCheck,
        gate=True,
        drops=True,
        order=10,
        summary="turn markers inside message text: each would train a forged extra turn",
        findings=FindingsTable(
            "Forged turns (turn markers in message text)",
            ("markers", "formats", "in"),
        ),
    ),
)
