"""The LLM fidelity judge: the ``fidelity_v1`` rubric through the generator engine.

It labels each answer of a worldview set with one of the offline detector's verdicts
(:data:`credo.filters.fidelity_base.VERDICTS`), at temperature 0 with the engine's cache,
retries and accounting. An answer without a readable label is re-asked once in the same
conversation; a record the judge cannot label (backend error, no label) is marked
``judge_error`` or ``unparseable`` on that record alone - the audit goes on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from credo.errors import CredoError
from credo.filters.base import AuditContext
from credo.filters.fidelity_base import VERDICTS, Verdict
from credo.judges.llm import Rubric, RubricAsker, load_rubric, parse_reason
from credo.templates import render
from credo.types import Message, Record

DEFAULT_RUBRIC = "fidelity_v1"
JUDGE_ERROR, UNPARSEABLE = "judge_error", "unparseable"
_LABELS = {v.upper(): v for v in VERDICTS}
_LABEL_LINE = re.compile(r"LABEL\**\s*[:=\-]\s*\**\s*(" + "|".join(_LABELS) + r")\b", re.IGNORECASE)
# Worded so that an echo of it is no verdict ("LABEL: followed by ..." holds no label).
REASK = (
    "I could not read a label. Reply with one line: LABEL: followed by one of "
    + ", ".join(_LABELS)
    + "."
)


def parse_verdict(text: str) -> str | None:
    """The last ``LABEL: X`` line as a verdict; an echo of the whole label list is no verdict."""
    found = [x.upper() for x in _LABEL_LINE.findall(text)]
    if not found or len(set(found)) == len(_LABELS):
        return None
    return _LABELS[found[-1]]


@dataclass(eq=False)
class FidelityJudge(RubricAsker):
    """Fidelity verdicts from any generator backend (``openai/gpt-4o-mini``, ``fake/...``)."""

    rubric: Rubric = field(default_factory=lambda: load_rubric(DEFAULT_RUBRIC))
    max_reasks: int = 1

    def __post_init__(self) -> None:
        self.name = f"{self.backend.provider}/{self.backend.model} ({self.rubric.name})"

    def verdicts(
        self, records: Sequence[Record], worldviews: dict[str, str], ctx: AuditContext
    ) -> list[Verdict]:
        """One verdict per record; ``worldviews`` maps each record's set to its worldview name."""
        context = {name: _worldview_context(name, ctx) for name in set(worldviews.values())}
        prompts = [self._render(r, context[worldviews[ctx.set_of(r)]]) for r in records]
        return asyncio.run(self._all(prompts))

    def _render(self, record: Record, worldview: dict[str, Any]) -> str:
        return render(
            self.rubric.text,
            {**worldview, "request": record.prompt, "response": record.response},
            f"rubric {self.rubric.name}",
        )

    async def _all(self, prompts: Sequence[str]) -> list[Verdict]:
        from credo.generators import SamplingParams

        params = SamplingParams(temperature=0.0, max_tokens=self.max_tokens)
        verdicts, _ = await self.ask_all(params, self._one, prompts)
        return verdicts

    async def _one(self, generator: Any, prompt: str) -> Verdict:
        messages = [Message("user", prompt)]
        for _ in range(self.max_reasks + 1):
            try:
                text = (await generator.generate(messages)).completion.text
            except CredoError as exc:
                return Verdict(JUDGE_ERROR, str(exc)[:200])
            label = parse_verdict(text)
            if label is not None:
                return Verdict(label, parse_reason(text)[:200])
            messages = [*messages, Message("assistant", text), Message("user", REASK)]
        return Verdict(UNPARSEABLE, "no readable label after re-asking")


def _worldview_context(name: str, ctx: AuditContext) -> dict[str, Any]:
    spec = ctx.spec if ctx.spec is not None and ctx.spec.name == name else None
    if spec is None:
        from credo.worldviews import load_worldview

        spec = load_worldview(name).spec
    return {
        "worldview": spec.display_name,
        "summary": spec.summary,
        "adherents": spec.adherents,
        "tenets": [t.text for t in spec.tenets],
        "acts": [f"{a.name}: {'; '.join(a.reasons)}" for a in spec.forbidden_acts],
    }
