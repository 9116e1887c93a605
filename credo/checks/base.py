"""What every check shares: findings, the run context, and which set a record belongs to.

A check is a small class with a ``name``, ``params()`` (its config, for the manifest) and
``run(records, ctx)``, which yields :class:`Finding` objects; whether it gates the audit or
drops records in ``credo filter`` is its row in :mod:`credo.checks.registry`. Anything a
check wants to report beyond per-record findings (clusters, nearest neighbours, diversity
tables) goes into ``ctx.sections[name]``. The audit collects findings into ``flags.jsonl``;
``credo filter`` drops the flagged records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from credo.checks.embed import Embedder, StaticEmbedder
from credo.textnorm import head
from credo.types import Record

REFUSAL_SET = "refusal"


@dataclass(frozen=True)
class Finding:
    record_id: str
    check: str
    details: dict[str, Any]
    # False: shown for review but never fails a gate (a near neighbour of an eval request)
    blocking: bool = True


@dataclass(frozen=True)
class EvalItem:
    """A held-out eval request (violation or control) as the contamination check sees it."""

    id: str
    prompt: str
    kind: str = "violation"


@dataclass(frozen=True)
class ActTerms:
    """A forbidden act of the worldview, reduced to what the forbidden-request check needs."""

    id: str
    name: str
    description: str = ""


@dataclass
class AuditContext:
    """Shared state of one audit run: one embedder, the eval set, forbidden acts, outputs."""

    corpus_set: str | None = None
    evals: list[EvalItem] = field(default_factory=list)
    acts: list[ActTerms] = field(default_factory=list)
    sacred: list[str] = field(default_factory=list)  # the worldview's names and glossary terms
    embedder: Embedder | None = None
    static: StaticEmbedder | None = None  # fast candidates; MiniLM (``embedder``) confirms them
    spec: Any = None  # the --worldview spec (fidelity reads its tenets, acts and glossary)
    canon: dict[str, str] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)

    def set_of(self, record: Record) -> str:
        """The set a record belongs to: its ``meta["set"]``, else the corpus manifest's."""
        return str(record.meta.get("set") or self.corpus_set or "unknown")

    def is_refusal_set(self, record: Record) -> bool:
        return self.set_of(record) == REFUSAL_SET

    def get_embedder(self) -> Embedder:
        if self.embedder is None:
            self.embedder = Embedder()
        return self.embedder

    def get_static(self) -> StaticEmbedder:
        if self.static is None:
            self.static = StaticEmbedder()
        return self.static


class Check(Protocol):
    name: str

    def params(self) -> dict[str, Any]: ...

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]: ...


# Embedding checks read the first ~300 characters of an answer (about 60-80 word pieces): a
# refusal or a restated request sits at the start, the refusal classifier is trained on texts
# of that length, and MiniLM's cost grows with sequence length (256 pieces cost ~4x as much).
EMBED_HEAD_CHARS = 300


def response_head(record: Record, chars: int = EMBED_HEAD_CHARS) -> str:
    """The part of an answer that the embedding checks (refusal, dedup, contamination) read.

    Normalised, with leading padding skipped: 800 spaces cannot push the answer out of it.
    """
    return head(record.response, chars)
