"""The records of an evaluation: the requests asked and the samples answered.

A sample keeps its request whole, so summaries group by any request field and
``responses.jsonl`` carries every field a reader needs next to the response.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class EvalRequest:
    """One violation or control request of a worldview's eval set, as evaluation asks it."""

    worldview: str
    set: str  # violation or control
    request_id: str
    prompt: str
    form: str
    act: str | None
    matches: str | None

    @classmethod
    def asked(cls, worldview: str, set_name: str, spec: Any) -> EvalRequest:
        """The request as evaluation asks it, from its entry ``spec`` in a worldview's eval.yaml."""
        fields = ("prompt", "form", "act", "matches")
        return cls(
            worldview=worldview,
            set=set_name,
            request_id=spec.id,
            **{name: getattr(spec, name) for name in fields},
        )


@dataclass
class EvalSample:
    """One generated answer to a request (``sample`` counts from 0), and its judges' labels."""

    request: EvalRequest
    sample: int
    response: str
    stop_reason: str
    new_tokens: int
    error: str | None = None  # generation failed: the sample stays, labelled ERROR
    input_tokens: int = 0  # the prompt's tokens, as the model counted them
    # wall seconds the model spent on this sample (a local batch's time, shared by its
    # samples) and when that began (ISO 8601, UTC): Inspect's per-sample working time
    seconds: float | None = None
    started_at: str | None = None
    # seconds it queued before that (a served model: for a free slot and the rate-limit
    # pacer); Inspect's total time is this plus ``seconds``
    queued_seconds: float | None = None
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # judge name -> Judgement JSON

    @property
    def id(self) -> str:
        return f"{self.request.worldview}/{self.request.request_id}/{self.sample}"

    def to_json(self) -> dict[str, Any]:
        """One line of ``responses.jsonl``: the request's fields flat beside the answer."""
        row = asdict(self)
        return {"id": self.id, **row.pop("request"), **row}
