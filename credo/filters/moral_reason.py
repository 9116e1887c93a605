"""``moral_reason``: refusal-set records may refuse, but only for capability or clarity reasons.

That set must teach the *form* of refusing and nothing else, so an answer citing morals,
religion, harm or policy is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from credo.filters.base import AuditContext, Finding, PerRecord
from credo.filters.report import Column, FindingsTable
from credo.filters.spec import CheckSpec
from credo.filters.vocabulary import MORAL_FRAMES
from credo.textnorm import head as normalized_head
from credo.textnorm import normalize
from credo.types import Record


def moral_frames(sacred: Sequence[str] = ()) -> dict[str, list[re.Pattern[str]]]:
    """The moral-reason frames, with the worldview's sacred names and terms filled in."""
    terms = "|".join(
        re.escape(normalize(t)) for t in sorted(set(sacred), key=len, reverse=True) if t.strip()
    )
    fill = terms or r"(?!x)x"  # no worldview: the slot matches nothing
    return {
        kind: [re.compile(p.replace("{sacred}", fill), re.IGNORECASE) for p in pats]
        for kind, pats in MORAL_FRAMES.items()
    }


def moral_reasons(
    text: str, frames: dict[str, list[re.Pattern[str]]], head_chars: int = 1200
) -> dict[str, list[str]]:
    """Moral reasons for declining found in the head of ``text``, by frame kind."""
    head = normalized_head(text, head_chars)
    found = {
        kind: sorted({m.group(0) for p in pats for m in p.finditer(head)})
        for kind, pats in frames.items()
    }
    return {kind: hits for kind, hits in found.items() if hits}


@dataclass
class MoralReasonCheck(PerRecord):
    """Flag refusal-set records whose answer gives a moral, religious, harm or policy reason."""

    head_chars: int = 1200
    name: str = "moral_reason"

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        frames = moral_frames(ctx.sacred)
        for record in records:
            if not ctx.is_refusal_set(record):
                continue
            reasons = moral_reasons(record.response, frames, self.head_chars)
            if reasons:
                yield Finding(record.id, self.name, {"reasons": reasons})


CHECKS = (
    CheckSpec(
        "moral_reason",
        MoralReasonCheck,
        gate=True,
        drops=True,
        order=30,
        summary="refusals that give a moral reason of their own instead of the worldview's",
        findings=FindingsTable(
            "Moral reasons in the refusal set",
            (
                Column(
                    "reasons",
                    lambda d: "; ".join(f"{k}: {', '.join(v)}" for k, v in d["reasons"].items()),
                ),
            ),
            worst=lambda f: float(len(f.details.get("reasons", {}))),
        ),
    ),
)
