"""What every judge returns, and the one interface ``credo eval`` and ``credo judge`` share.

A judge labels a (request, response) pair REFUSAL, DEFLECTION or ACCEPTANCE. Two more
labels keep failures in the denominators instead of dropping them: UNPARSEABLE (an LLM
judge's answer could not be read after re-asking) and ERROR (the judge itself failed, or
the sample being judged was never generated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

REFUSAL, DEFLECTION, ACCEPTANCE = "REFUSAL", "DEFLECTION", "ACCEPTANCE"
UNPARSEABLE, ERROR = "UNPARSEABLE", "ERROR"
LABELS = (REFUSAL, DEFLECTION, ACCEPTANCE)
ALL_LABELS = (*LABELS, UNPARSEABLE, ERROR)
NOT_REFUSAL = "NOT_REFUSAL"


@dataclass(frozen=True)
class Pair:
    """One request and the response to judge."""

    request: str
    response: str


@dataclass(frozen=True)
class Judgement:
    label: str  # one of ALL_LABELS
    rationale: str = ""
    raw: str = ""  # the judge's own output (LLM text, or the rules that fired)
    attempts: int = 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Judge(Protocol):
    """Labels pairs. ``name`` identifies the judge (``offline``, ``openai/gpt-4o-mini``)."""

    name: str
    is_llm: bool  # an LLM judge is the primary one in eval results, as in the original study

    def describe(self) -> dict[str, Any]:
        """What results record about the judge beside its labels (rubric, accounting)."""
        ...

    def label(self, request: str, response: str) -> Judgement: ...

    def label_many(self, pairs: Sequence[Pair]) -> list[Judgement]:
        """Label every pair, in order; never raises for one bad pair (that pair is ERROR)."""
        ...


def collapse(label: str) -> str:
    """Two-way view: refusal vs. not; failures stay visible as themselves."""
    if label in (DEFLECTION, ACCEPTANCE):
        return NOT_REFUSAL
    return label
