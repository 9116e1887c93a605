"""``refusal``: worldview and regular records must not refuse.

The experiment trains assertions only; a refusal anywhere outside the refusal set would be
refusal training in disguise. The detector itself lives in :mod:`credo.filters.refusal_detector`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from credo.filters.base import AuditContext, Finding, PerRecord
from credo.filters.refusal_detector import RefusalConfig, RefusalDetector
from credo.filters.report import Column, FindingsTable
from credo.filters.spec import CheckSpec
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
        return {
            "config": str(self.config),
            **asdict(self.config),
            "use_embedding": self.use_embedding,
            "fast": self.fast,
            "confirm": self.confirm,
        }

    def detector(self, ctx: AuditContext) -> RefusalDetector:
        """One detector per audit: its exemplar index and classifiers are built once, not per batch."""

        def make() -> RefusalDetector:
            embedder = None
            if self.use_embedding:
                embedder = (
                    ctx.get_static() if self.fast and not self.confirm else ctx.get_embedder()
                )
            static = ctx.get_static() if self.use_embedding and self.fast and self.confirm else None
            return RefusalDetector(
                self.config, embedder=embedder, use_embedding=self.use_embedding, static=static
            )

        return ctx.once((self.name, str(self.params())), make)

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        targets = [r for r in records if not ctx.is_refusal_set(r)]
        if not targets:
            return
        for record, score in zip(targets, self.detector(ctx).score([r.response for r in targets])):
            if score.refusal:
                yield Finding(record.id, self.name, {"set": ctx.set_of(record), **score.to_json()})


CHECKS = (
    CheckSpec(
        "refusal",
        RefusalCheck,
        gate=True,
        drops=True,
        embedding="optional",
        order=20,
        summary="answers outside the refusal set that refuse: refusal training in disguise",
        findings=FindingsTable(
            "Refusals outside the refusal set",
            (
                Column("set", "set"),
                Column("patterns", "patterns"),
                Column("minhash", "minhash"),
                Column("embedding", "embedding"),
            ),
            worst=lambda f: float(f.details.get("embedding") or f.details.get("minhash") or 0),
        ),
    ),
)
