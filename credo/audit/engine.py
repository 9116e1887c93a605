"""The local engine: every check's ``map_batch`` over batches of records (here, or in worker
processes), then each check's ``reduce`` over the partials.

:mod:`credo.audit.runner` picks this engine or :mod:`credo.audit.ray_engine`; the Ray
engine reuses :func:`map_batch` and :func:`reduce_checks` from here, so the two engines
yield the same findings and neither imports the runner.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from credo.audit.findings import FindingStore
from credo.audit.progress import AuditProgress
from credo.audit.result import CheckRun
from credo.corpora.io import read_records, records_at
from credo.errors import ConfigError, CorpusError
from credo.filters.base import AuditContext, Check, Finding, InMemory, Parts
from credo.filters.registry import check_spec
from credo.filters.spill import SpilledIds
from credo.types import Record

STREAM_BATCH = 4096  # records per batch: peak memory is a batch plus every check's small partials


class Reread:
    """A :class:`~credo.filters.base.Corpus` over a corpus file: the ids (spilled to disk), and
    records read back from the file by position (never all held at once). Iterating reads
    every record again (``credo filter`` writes the kept ones this way)."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.ids = SpilledIds()  # on disk past 65,536 ids: ten million strings cost ~650 MB

    def __iter__(self) -> Iterator[Record]:
        return read_records(self.source)

    def fetch(self, positions: Iterable[int]) -> dict[int, Record]:
        return records_at(self.source, positions)


_POOL_STATE: tuple[Sequence[Check], AuditContext] | None = (
    None  # a worker process's checks and context
)


def _pool_start(checks: Sequence[Check], ctx: AuditContext) -> None:
    global _POOL_STATE
    _POOL_STATE = (checks, ctx)
    # One thread per worker (the workers are the parallelism), read by torch if MiniLM loads;
    # set, not imported: torch costs ~300 MB a process and the static mode never needs it.
    os.environ["OMP_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def map_batch(
    batch: Sequence[Record], checks: Sequence[Check] | None = None, ctx: AuditContext | None = None
) -> tuple[dict[str, Any], dict[str, float]]:
    """Every check's partial of one batch, and the seconds each took (in a worker: its own checks)."""
    if checks is None:
        checks, ctx = _POOL_STATE  # type: ignore[misc]
    assert ctx is not None  # the pool's initializer, or the caller, gave one
    parts: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for check in checks:
        start = time.perf_counter()
        parts[check.name] = check.map_batch(batch, ctx)
        seconds[check.name] = time.perf_counter() - start
    return parts, seconds


def _mapped(
    batches: Iterable[Sequence[Record]], checks: Sequence[Check], ctx: AuditContext, workers: int
) -> Iterator[tuple[int, tuple[dict[str, Any], dict[str, float]]]]:
    """``(batch length, map_batch result)`` in corpus order: here, or in ``workers`` processes
    with at most two batches each in flight (memory stays a few batches). The checks and
    context are sent to each worker once."""
    if workers <= 1:
        for batch in batches:
            yield len(batch), map_batch(batch, checks, ctx)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    # Spawned, not forked: a fork copies the locks of native thread pools (rensa's, the
    # tokenizers') without their threads, and the child can wait on them for ever.
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_pool_start,
        initargs=(checks, ctx),
    ) as pool:
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append((len(batch), pool.submit(map_batch, batch)))
                if len(pending) >= 2 * workers:
                    size, future = pending.popleft()
                    yield size, future.result()
            while pending:
                size, future = pending.popleft()
                yield size, future.result()
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            if "pickle" not in str(exc).lower():
                raise
            raise ConfigError(
                f"--workers {workers}: a check cannot be sent to another process ({exc}) - "
                "run with --workers 1"
            ) from None


def finding_store(checks: Sequence[Check]) -> FindingStore:
    """An empty store for the findings of ``checks``, in their order, each scored as its
    report table sorts them."""
    scores = {}
    for check in checks:
        table = check_spec(check.name).findings
        if table is not None and table.worst is not None:
            scores[check.name] = table.score
    return FindingStore([c.name for c in checks], scores)


def run_checks(
    batches: Iterable[Sequence[Record]],
    corpus: Any,
    ctx: AuditContext,
    checks: Sequence[Check],
    workers: int = 1,
    progress: AuditProgress | None = None,
) -> tuple[list[CheckRun], FindingStore]:
    """Every check's ``map_batch`` on each batch, then its ``reduce`` over the partials.

    ``corpus`` (a :class:`~credo.filters.base.Corpus`) must hold every id once the batches are
    read: reduce reads ids and fetches records back through it. With ``workers`` > 1 the
    batches are mapped in that many processes; the reduce stays here. The findings go to a
    store on disk: per-record checks' as their batches arrive, the others' as reduce yields them."""
    store = finding_store(checks)
    parts = {c.name: Parts(c, sink=store.add) for c in checks}
    seconds = dict.fromkeys(parts, 0.0)
    offset = 0
    for size, (batch_parts, batch_seconds) in _mapped(batches, checks, ctx, workers):
        for check in checks:
            start = time.perf_counter()
            parts[check.name].add(offset, batch_parts[check.name])
            seconds[check.name] += batch_seconds[check.name] + time.perf_counter() - start
        offset += size
        if progress is not None:
            progress.mapped(offset, seconds)
    if not offset:  # an empty corpus still runs each check once (a check may note why it skipped)
        for check in checks:
            parts[check.name].add(0, check.map_batch([], ctx))
    runs = reduce_checks(
        checks, parts, seconds=seconds, corpus=corpus, ctx=ctx, store=store, progress=progress
    )
    return runs, store


def reduce_checks(
    checks: Sequence[Check],
    parts: Mapping[str, Parts],
    seconds: Mapping[str, float],
    corpus: Any,
    ctx: AuditContext,
    store: FindingStore,
    reducers: Mapping[str, Callable[[], Iterable[Finding]]] | None = None,
    progress: AuditProgress | None = None,
) -> list[CheckRun]:
    """Each check's reduce over its partials, in table order, its findings written to
    ``store`` as they come; each check's run (map + reduce seconds, counts from the store).
    ``reducers`` replaces a check's reduce (the Ray engine bands near_duplicate on the cluster)."""
    runs = []
    for check in checks:
        if progress is not None:
            progress.reducing(check.name)
        start = time.perf_counter()
        if reducers and check.name in reducers:
            store.add(reducers[check.name]())
        else:
            store.add(check.reduce(parts[check.name].drain(), corpus, ctx))
        spent = seconds[check.name] + time.perf_counter() - start
        runs.append(
            CheckRun(
                check.name,
                check_spec(check.name).gate,
                params=check.params(),
                flagged=store.count(check.name),
                seconds=round(spent, 3),
                blocking=store.count(check.name, blocking=True),
            )
        )
    return runs


def audit_records(
    records: Sequence[Record], ctx: AuditContext, checks: Sequence[Check], batch: int = STREAM_BATCH
) -> tuple[list[CheckRun], list[Finding]]:
    """The checks over records already in memory, in batches like a streamed audit; the
    findings as a list (the records are in memory already)."""
    batches = (records[i : i + batch] for i in range(0, len(records), batch))
    runs, store = run_checks(batches, InMemory(records), ctx, checks)
    return runs, list(store)


def audit_stream(
    source: Path,
    ctx: AuditContext,
    checks: Sequence[Check],
    batch: int | None = None,
    workers: int = 1,
    progress: AuditProgress | None = None,
) -> tuple[list[CheckRun], FindingStore, Reread, dict[str, int]]:
    """The checks over a corpus file read in batches of ``batch`` records: peak memory is one
    batch plus the checks' partials (signatures, float16 vectors, counters); the findings are
    in a store on disk."""
    corpus, sets = Reread(source), dict[str, int]()
    hashes: list[np.ndarray] = []  # 8 bytes an id: enough to find a repeat at any scale

    def batches() -> Iterator[list[Record]]:
        chunk: list[Record] = []
        for record in read_records(source):
            corpus.ids.append(record.id)
            name = ctx.set_of(record)
            sets[name] = sets.get(name, 0) + 1
            chunk.append(record)
            if len(chunk) >= (batch or STREAM_BATCH):
                hashes.append(_id_hashes(chunk))
                yield chunk
                chunk = []
        if chunk:
            hashes.append(_id_hashes(chunk))
            yield chunk
        refuse_repeated_ids(source, hashes)  # before any reduce: flags are keyed by id

    runs, findings = run_checks(
        batches(), corpus, ctx=ctx, checks=checks, workers=workers, progress=progress
    )
    return runs, findings, corpus, sets


def _id_hashes(records: Sequence[Record]) -> np.ndarray:
    return np.fromiter((hash(r.id) for r in records), dtype=np.int64, count=len(records))


def refuse_repeated_ids(source: Path, hashes: list[np.ndarray]) -> None:
    """A repeated id makes every finding ambiguous (``credo filter`` drops by id, so both
    copies would go): refuse the corpus, naming the id and where it repeats. Empties
    ``hashes`` (the batches' id hashes), which it no longer needs."""
    if not hashes:
        return
    ordered = np.concatenate(hashes)
    hashes.clear()  # one copy, sorted in place, and none kept through the reduce (80 MB at 10M)
    ordered.sort()
    if not (ordered[1:] == ordered[:-1]).any():
        return
    first: dict[str, int] = {}
    for index, record in enumerate(read_records(source)):  # rare: find the string itself
        if record.id in first:
            raise CorpusError(
                f"{source}: id {record.id[:80]!r} repeats (records {first[record.id] + 1} "
                f"and {index + 1}) - give each record its own id; audit findings and "
                "credo filter go by id"
            )
        first[record.id] = index
