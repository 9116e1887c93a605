"""``refusal`` and ``moral_reason``: the two halves of "no refusal training in disguise".

Worldview and regular records must not refuse (the experiment trains assertions only);
refusal-set records may refuse, but only for capability or clarity reasons, never citing
morals, religion or harm, since that set must teach the *form* of refusing and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from credo.checks.base import AuditContext, Finding, PerRecord
from credo.checks.refusal import RefusalConfig, RefusalDetector
from credo.checks.vocabulary import MORAL_FRAMES
from credo.textnorm import head as normalized_head
from credo.textnorm import normalize
from credo.types import Record


@dataclass
class RefusalCheck(PerRecord):
    """Flag records outside the refusal set whose answer the ensemble calls a refusal."""

    config: RefusalConfig = field(default_factory=RefusalConfig)
    use_embedding: bool = True
    fast: bool = True  # static-model candidates, MiniLM confirms (see RefusalDetector)
    confirm: bool = True  # False: the static model's own classifier decides (no MiniLM)
    name: str = "refusal"

    def params(self) -> dict[str, Any]:
        return {"config": str(self.config), "use_embedding": self.use_embedding, "fast": self.fast,
                "confirm": self.confirm}

    def detector(self, ctx: AuditContext) -> RefusalDetector:
        """One detector per audit: its exemplar index and classifiers are built once, not per batch."""
        def make() -> RefusalDetector:
            embedder = None
            if self.use_embedding:
                embedder = ctx.get_static() if self.fast and not self.confirm else ctx.get_embedder()
            static = ctx.get_static() if self.use_embedding and self.fast and self.confirm else None
            return RefusalDetector(self.config, embedder=embedder, use_embedding=self.use_embedding, static=static)

        return ctx.once((self.name, str(self.params())), make)

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        targets = [r for r in records if not ctx.is_refusal_set(r)]
        if not targets:
            return
        for record, score in zip(targets, self.detector(ctx).score([r.response for r in targets])):
            if score.refusal:
                yield Finding(record.id, self.name, {"set": ctx.set_of(record), **score.to_json()})


def moral_frames(sacred: Sequence[str] = ()) -> dict[str, list[re.Pattern[str]]]:
    """The moral-reason frames, with the worldview's sacred names and terms filled in."""
    terms = "|".join(re.escape(normalize(t)) for t in sorted(set(sacred), key=len, reverse=True) if t.strip())
    fill = terms or r"(?!x)x"  # no worldview: the slot matches nothing
    return {kind: [re.compile(p.replace("{sacred}", fill), re.IGNORECASE) for p in pats] for kind, pats in MORAL_FRAMES.items()}


def moral_reasons(text: str, frames: dict[str, list[re.Pattern[str]]], head_chars: int = 1200) -> dict[str, list[str]]:
    """Moral reasons for declining found in the head of ``text``, by frame kind."""
    head = normalized_head(text, head_chars)
    found = {kind: sorted({m.group(0) for p in pats for m in p.finditer(head)}) for kind, pats in frames.items()}
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
