"""What every check shares: findings, the run context, and which set a record belongs to.

A check is a small class with a ``name``, ``params()`` (its config, for the manifest) and
``run(records, ctx)``, which yields :class:`Finding` objects; whether it gates the audit or
drops records in ``credo filter``, and what it adds to the reports, is its declaration at the
end of its module (:class:`~credo.filters.spec.CheckSpec`). Anything a check wants to report
beyond per-record findings (clusters, nearest neighbours, diversity tables) goes into
``ctx.sections[name]``, which its declared ``tables`` read. The audit collects findings into ``flags.jsonl``;
``credo filter`` drops the flagged records.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from credo.filters.embed import Embedder, StaticEmbedder
from credo.filters.spill import Spill
from credo.textnorm import head
from credo.types import Record

REFUSAL_SET = "refusal"


def cue(pattern: str) -> re.Pattern[str]:
    """A phrase-list pattern of a check: its cues match in any letter case."""
    return re.compile(pattern, re.IGNORECASE)


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
    built: dict[Any, Any] = field(default_factory=dict, repr=False)  # see once()

    def once(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, built once per audit under ``key`` (a check's detectors, not rebuilt per batch)."""
        if key not in self.built:
            self.built[key] = make()
        return self.built[key]

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
    """A check over batches of records, so that the same object runs in the local loop and on Ray.

    ``map_batch`` reads one batch and returns a small, picklable partial result (findings, or
    signatures, vectors and counters) whose record positions are local to the batch;
    ``reduce`` folds the ``(offset, partial)`` pairs of every batch, in corpus order, into the
    findings, reading records back from ``corpus`` only where it must (candidates to confirm,
    flagged records to describe). ``run(records, ctx)`` is the whole corpus as one batch.

    A check whose partial is a summary (counters, sketches: positions do not matter) may also
    define ``combine(a, b)``, merging two partials into one; the engines then keep one running
    partial instead of one per batch. A check that sets ``spills_parts`` gets its partials
    kept on disk, and ``parts`` it may iterate more than once (see :class:`SpilledParts`).
    """

    name: str

    def params(self) -> dict[str, Any]: ...

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> Any: ...

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]: ...

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]: ...


class Corpus(Protocol):
    """What ``reduce`` may read back: every id in corpus order, and records by position."""

    @property
    def ids(self) -> Sequence[str]: ...

    def fetch(self, positions: Iterable[int]) -> dict[int, Record]: ...


class InMemory:
    """A :class:`Corpus` over records already in memory (``run``, small corpora, tests)."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.records = records
        self.ids = [r.id for r in records]

    def fetch(self, positions: Iterable[int]) -> dict[int, Record]:
        return {i: self.records[i] for i in positions}


class Parts:
    """A check's partials as the engines collect them: one per batch, or one running partial
    when the check can ``combine`` them. ``drain()`` hands them to reduce and forgets them.

    A check whose partial is its findings (``streams_findings``, as :class:`PerRecord`) hands
    each batch's to ``sink`` as it arrives (the audit's finding store on disk) when one is
    given; its reduce then gets no partials."""

    def __init__(self, check: Check, sink: Callable[[list[Finding]], Any] | None = None) -> None:
        self.combine = getattr(check, "combine", None)
        self.sink = sink if getattr(check, "streams_findings", False) else None
        self.spilled = SpilledParts() if getattr(check, "spills_parts", False) else None
        self.items: list[tuple[int, Any]] = []

    def add(self, offset: int, part: Any) -> None:
        if self.sink is not None:
            self.sink(part)
        elif self.spilled is not None:
            self.spilled.add(offset, part)
        elif self.combine is not None and self.items:
            self.items[0] = (0, self.combine(self.items[0][1], part))
        else:
            self.items.append((offset, part))

    def drain(self) -> Iterable[tuple[int, Any]]:
        if self.spilled is not None:
            return self.spilled
        return self._pop()

    def _pop(self) -> Iterator[tuple[int, Any]]:
        while self.items:
            yield self.items.pop(0)


def rereadable(parts: Iterable[tuple[int, Any]]) -> Iterable[tuple[int, Any]]:
    """``parts`` in a form a reduce may read more than once (a one-shot iterator becomes a
    list; spilled partials and lists read again as they are)."""
    return list(parts) if iter(parts) is parts else parts


class SpilledParts:
    """A check's per-batch partials pickled to a file in a spill folder as they arrive, for a
    check that sets ``spills_parts``: its partials list records to report (truncated answers),
    and its reduce reads them twice, once for the counts that decide the gate and once to
    yield the findings, holding one batch's at a time."""

    def __init__(self) -> None:
        self._spill = Spill()
        self._path = self._spill.folder / "parts.pickle"
        self._count = 0

    def add(self, offset: int, part: Any) -> None:
        with self._path.open("ab") as handle:
            pickle.dump((offset, part), handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        if not self._count:
            return
        with self._path.open("rb") as handle:
            for _ in range(self._count):
                yield pickle.load(handle)


def run_batched(check: Check, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
    """A batch check over records in memory: one batch, then its reduce."""
    return check.reduce([(0, check.map_batch(records, ctx))], InMemory(records), ctx)


class Batched:
    """For checks that define ``map_batch`` and ``reduce``: ``run`` over records in memory is
    one batch, then its reduce."""

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        return run_batched(self, records, ctx)  # type: ignore[arg-type]


class PerRecord(Batched):
    """For checks whose findings on a record depend on that record alone: the partial of a
    batch is its findings (their record ids say where they belong), the reduce concatenates.
    Subclasses define ``findings(records, ctx)``.

    The audit writes a batch's findings to its store on disk as the batch arrives
    (``streams_findings``), and then calls ``reduce`` with no partials: a subclass may
    override ``reduce`` to note a section or add findings, never to change the streamed ones
    (set ``streams_findings = False`` to be handed them)."""

    streams_findings = True

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        raise NotImplementedError

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> list[Finding]:
        return list(self.findings(records, ctx))

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        for _, found in parts:
            yield from found


# Embedding checks read the first ~300 characters of an answer (about 60-80 word pieces): a
# refusal or a restated request sits at the start, the refusal classifier is trained on texts
# of that length, and MiniLM's cost grows with sequence length (256 pieces cost ~4x as much).
EMBED_HEAD_CHARS = 300


def response_head(record: Record, chars: int = EMBED_HEAD_CHARS) -> str:
    """The part of an answer that the embedding checks (refusal, dedup, contamination) read.

    Normalised, with leading padding skipped: 800 spaces cannot push the answer out of it.
    """
    return head(record.response, chars)
