"""``refusal``: worldview and regular records must not refuse.

The experiment trains assertions only; a refusal anywhere outside the refusal set would be
refusal training in disguise. The decision is the learned refusal classifier's
(:mod:`credo.filters.refusal_classifier`), the same model the offline judge reads: a record
is flagged when its probability of REFUSAL reaches ``threshold``. It reads no embedding
model, so it runs at the speed of a hashed bag of words.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from credo.filters.base import AuditContext, Finding, PerRecord
from credo.filters.patterns import find_refusal_patterns
from credo.filters.refusal_classifier import PATTERN_CHARS, RefusalClassifier, shipped
from credo.filters.refusal_detector import RefusalConfig
from credo.filters.report import Column, FindingsTable
from credo.filters.spec import CheckSpec
from credo.types import Record


@dataclass
class RefusalCheck(PerRecord):
    """Flag records outside the refusal set whose answer the classifier calls a refusal."""

    config: RefusalConfig = field(default_factory=RefusalConfig)  # kept for the registry's options
    threshold: float = 0.5  # P(REFUSAL) that flags (docs/judge-card.md: audit view)
    # Accepted for the registry's embedding options; the classifier reads no embedding.
    use_embedding: bool = True
    fast: bool = True
    confirm: bool = True
    name: str = "refusal"

    def params(self) -> dict[str, Any]:
        model = self.classifier()
        return {
            "config": f"{model.version}_t{self.threshold:g}",
            "threshold": self.threshold,
            "classifier": model.version,
            "data_manifest_sha256": model.meta.get("data_manifest_sha256"),
        }

    def classifier(self) -> RefusalClassifier:
        return shipped()

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        targets = [r for r in records if not ctx.is_refusal_set(r)]
        if not targets:
            return
        predictions = self.classifier().predict(
            [r.prompt for r in targets], [r.response for r in targets]
        )
        for record, p in zip(targets, predictions):
            if p.refusal >= self.threshold:
                hits = find_refusal_patterns(record.response, PATTERN_CHARS)  # evidence shown
                yield Finding(
                    record.id,
                    self.name,
                    {
                        "set": ctx.set_of(record),
                        "refusal": True,
                        "probability": round(p.refusal, 4),
                        "label": p.label,
                        "probs": p.to_json()["probs"],
                        "patterns": [f"{h.kind}: {h.match}" for h in hits],
                        "pattern_kinds": sorted({h.kind for h in hits}),
                    },
                )


CHECKS = (
    CheckSpec(
        "refusal",
        RefusalCheck,
        gate=True,
        drops=True,
        order=20,
        summary="answers outside the refusal set that refuse: refusal training in disguise",
        findings=FindingsTable(
            "Refusals outside the refusal set",
            ("set", Column("P(refusal)", "probability"), "label", "patterns"),
            worst="probability",
        ),
    ),
)
