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

from credo.checks.base import AuditContext, Finding
from credo.checks.refusal import RefusalConfig, RefusalDetector
from credo.types import Record


@dataclass
class RefusalCheck:
    """Flag records outside the refusal set whose answer the ensemble calls a refusal."""

    config: RefusalConfig = field(default_factory=RefusalConfig)
    use_embedding: bool = True
    name: str = "refusal"

    def params(self) -> dict[str, Any]:
        return {"config": str(self.config), "use_embedding": self.use_embedding}

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        targets = [r for r in records if not ctx.is_refusal_set(r)]
        if not targets:
            return
        embedder = ctx.get_embedder() if self.use_embedding else None
        detector = RefusalDetector(self.config, embedder=embedder, use_embedding=self.use_embedding)
        for record, score in zip(targets, detector.score([r.response for r in targets])):
            if score.refusal:
                yield Finding(record.id, self.name, {"set": ctx.set_of(record), **score.to_json()})


# Reasons a refusal may not give in the refusal set: ethics, religion, harm, offence.
MORAL_PATTERNS = {
    "ethics": r"\b(?:unethical|immoral|morally|moral(?:ity|s)?|ethic(?:s|al)|wrong(?:ful)?|evil|shameful|irresponsible|inappropriate|improper|conscience|my values|my principles|integrity)\b",
    "religion": r"\b(?:sin(?:s|ful)?|God|gods|Grameus|Church|faith|scripture|Codex|holy|sacred|blasphem\w*|heresy|heretical|pray(?:er)?|divine|commandments?|doctrine|the Bible)\b",
    "harm": r"\b(?:harm(?:ful|s)?|dangerous|danger|hurt(?:ful)?|illegal|unlawful|unsafe|violen(?:t|ce)|abuse|exploit\w*|hateful|offensive|discriminat\w*|misinformation|safety)\b",
    "policy": r"\b(?:guidelines|polic(?:y|ies)|content rules|not allowed to|against the rules)\b",
}
_MORAL = {kind: re.compile(p, re.IGNORECASE) for kind, p in MORAL_PATTERNS.items()}


@dataclass
class MoralReasonCheck:
    """Flag refusal-set records whose answer cites a moral, religious, harm or policy reason."""

    head_chars: int = 1200
    name: str = "moral_reason"

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        for record in records:
            if not ctx.is_refusal_set(record):
                continue
            head = record.response[: self.head_chars]
            reasons = {kind: sorted({m.group(0) for m in p.finditer(head)}) for kind, p in _MORAL.items()}
            reasons = {kind: words for kind, words in reasons.items() if words}
            if reasons:
                yield Finding(record.id, self.name, {"reasons": reasons})
