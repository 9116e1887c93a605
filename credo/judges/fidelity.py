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
from typing import Any

from credo.errors import CredoError
from credo.filters.base import AuditContext
from credo.filters.fidelity_base import VERDICTS, Verdict
from credo.judges.llm import Rubric, load_rubric, parse_reason
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


class FidelityJudge:
    """Fidelity verdicts from any generator backend (``openai/gpt-4o-mini``, ``fake/...``)."""

    def __init__(
        self,
        backend: Any,
        *,
        rubric: Rubric | None = None,
        max_reasks: int = 1,
        concurrency: int = 8,
        max_tokens: int = 200,
        use_cache: bool = True,
    ) -> None:
        self.backend = backend
        self.rubric = rubric or load_rubric(DEFAULT_RUBRIC)
        self.max_reasks = max_reasks
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.use_cache = use_cache
        self.name = f"{backend.provider}/{backend.model} ({self.rubric.name})"

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
        from credo.generators import Generator, SamplingParams
        from credo.generators.cache import GenerationCache

        cache = GenerationCache() if self.use_cache else None
        generator = Generator(
            self.backend,
            SamplingParams(temperature=0.0, max_tokens=self.max_tokens),
            cache=cache,
            concurrency=self.concurrency,
        )
        try:
            return list(await asyncio.gather(*(self._one(generator, p) for p in prompts)))
        finally:
            if cache is not None:
                cache.close()

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
