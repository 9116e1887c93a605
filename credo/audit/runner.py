"""Run the checks over a corpus, collect findings, decide the gate, write the reports.

``run_audit`` is the library entry point behind ``credo audit``; ``credo filter`` reuses
:func:`audit_corpus`. Which checks exist is :mod:`credo.filters.registry`. The corpus is only read: the reports go to ``out`` (by default a
folder under ``$CREDO_HOME/audits`` named by the corpus hash).
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from credo.audit.options import AuditOptions
from credo.audit.reports import write_reports
from credo.audit.result import AuditResult, CheckRun
from credo.corpora.io import MANIFEST_FILE, iter_jsonl, read_manifest, read_records, records_path
from credo.corpora.outdir import check_output, output_lock
from credo.errors import ConfigError, CorpusError
from credo.filters.base import AuditContext, Check, EvalItem, Finding, InMemory, Parts
from credo.filters.forbidden import acts_from_spec, sacred_terms
from credo.filters.registry import CHECK_NAMES, build_checks, check_spec
from credo.hashing import file_hash
from credo.paths import credo_home
from credo.types import Record

AUDIT_FILES = ("report.json", "flags.jsonl")
# The result types and the registry's names stay importable from here for older callers.
__all__ = [
    "CHECK_NAMES",
    "AuditResult",
    "CheckRun",
    "audit_corpus",
    "audit_records",
    "audit_stream",
    "build_checks",
    "build_context",
    "load_evals",
    "run_audit",
    "run_checks",
]


def load_evals(path: str | Path) -> list[EvalItem]:
    """Eval requests from JSONL: ``id``, ``prompt`` and optional ``kind`` (violation/control)."""
    items = []
    for number, data in iter_jsonl(Path(path)):
        if not isinstance(data.get("id"), (str, int)) or not isinstance(data.get("prompt"), str):
            raise CorpusError(
                f"{path}:{number}: expected an eval request with 'id' and 'prompt' (got keys {sorted(data)})"
            )
        kind = str(data.get("kind", "violation"))
        if kind not in ("violation", "control"):
            raise CorpusError(
                f"{path}:{number}: 'kind' must be 'violation' or 'control', got {kind!r}"
            )
        items.append(EvalItem(str(data["id"]), data["prompt"], kind))
    return items


def build_context(
    path: str | Path, eval_path: str | Path | None = None, worldview: str | None = None
) -> AuditContext:
    """The corpus' set (from its manifest), the eval requests and the forbidden acts."""
    source = records_path(path)
    manifest = read_manifest(source.parent) if (source.parent / MANIFEST_FILE).is_file() else {}
    ctx = AuditContext(corpus_set=manifest.get("set") or manifest.get("worldview"))
    if worldview:
        from credo.worldviews import load_worldview

        wv = load_worldview(worldview)
        ctx.acts = acts_from_spec(wv.spec)
        ctx.spec, ctx.canon = wv.spec, dict(wv.canon)
        ctx.sacred = sacred_terms(wv.spec)
        if wv.eval:
            ctx.evals = [EvalItem(r.id, r.prompt, "violation") for r in wv.eval.violation]
            ctx.evals += [EvalItem(r.id, r.prompt, "control") for r in wv.eval.control]
    if eval_path:
        ctx.evals += load_evals(eval_path)
    return ctx


STREAM_BATCH = 4096  # records per batch: peak memory is a batch plus every check's small partials


class Reread:
    """A :class:`~credo.filters.base.Corpus` over a corpus file: the ids, kept in memory, and
    records read back from the file by position (never all held at once). Iterating reads
    every record again (``credo filter`` writes the kept ones this way)."""

    def __init__(self, source: Path) -> None:
        self.source, self.ids = source, []

    def __iter__(self) -> Iterator[Record]:
        return read_records(self.source)

    def fetch(self, positions: Iterable[int]) -> dict[int, Record]:
        wanted = set(positions)
        out: dict[int, Record] = {}
        if not wanted:
            return out
        last = max(wanted)
        for index, record in enumerate(read_records(self.source)):
            if index in wanted:
                out[index] = record
            if index >= last:
                break
        return out


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
    parts, seconds = {}, {}
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


def run_checks(
    batches: Iterable[Sequence[Record]],
    corpus: Any,
    ctx: AuditContext,
    checks: Sequence[Check],
    workers: int = 1,
) -> tuple[list[CheckRun], list[Finding]]:
    """Every check's ``map_batch`` on each batch, then its ``reduce`` over the partials.

    ``corpus`` (a :class:`~credo.filters.base.Corpus`) must hold every id once the batches are
    read: reduce reads ids and fetches records back through it. With ``workers`` > 1 the
    batches are mapped in that many processes; the reduce stays here."""
    parts = {c.name: Parts(c) for c in checks}
    seconds = dict.fromkeys(parts, 0.0)
    offset = 0
    for size, (batch_parts, batch_seconds) in _mapped(batches, checks, ctx, workers):
        for check in checks:
            start = time.perf_counter()
            parts[check.name].add(offset, batch_parts[check.name])
            seconds[check.name] += batch_seconds[check.name] + time.perf_counter() - start
        offset += size
    if not offset:  # an empty corpus still runs each check once (a check may note why it skipped)
        for check in checks:
            parts[check.name].add(0, check.map_batch([], ctx))
    return reduce_checks(checks, parts, seconds=seconds, corpus=corpus, ctx=ctx)


def reduce_checks(
    checks: Sequence[Check],
    parts: Mapping[str, Parts],
    seconds: Mapping[str, float],
    corpus: Any,
    ctx: AuditContext,
    reducers: Mapping[str, Callable[[], list[Finding]]] | None = None,
) -> tuple[list[CheckRun], list[Finding]]:
    """Each check's reduce over its partials, in table order, with its run (map + reduce seconds).
    ``reducers`` replaces a check's reduce (the Ray engine bands near_duplicate on the cluster)."""
    runs, findings = [], []
    for check in checks:
        start = time.perf_counter()
        if reducers and check.name in reducers:
            found = reducers[check.name]()
        else:
            found = list(check.reduce(parts[check.name].drain(), corpus, ctx))
        spent = seconds[check.name] + time.perf_counter() - start
        runs.append(
            CheckRun(
                name=check.name,
                gate=check_spec(check.name).gate,
                params=check.params(),
                flagged=len(found),
                seconds=round(spent, 3),
                blocking=sum(f.blocking for f in found),
            )
        )
        findings.extend(found)
    return runs, findings


def audit_records(
    records: Sequence[Record], ctx: AuditContext, checks: Sequence[Check], batch: int = STREAM_BATCH
) -> tuple[list[CheckRun], list[Finding]]:
    """The checks over records already in memory, in batches like a streamed audit."""
    batches = (records[i : i + batch] for i in range(0, len(records), batch))
    return run_checks(batches, InMemory(records), ctx, checks)


def audit_stream(
    source: Path,
    ctx: AuditContext,
    checks: Sequence[Check],
    batch: int | None = None,
    workers: int = 1,
) -> tuple[list[CheckRun], list[Finding], Reread, dict[str, int]]:
    """The checks over a corpus file read in batches of ``batch`` records: peak memory is one
    batch plus the checks' partials (signatures, float16 vectors, counters, findings)."""
    corpus, sets = Reread(source), {}

    def batches() -> Iterator[list[Record]]:
        chunk: list[Record] = []
        for record in read_records(source):
            corpus.ids.append(record.id)
            name = ctx.set_of(record)
            sets[name] = sets.get(name, 0) + 1
            chunk.append(record)
            if len(chunk) >= (batch or STREAM_BATCH):
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    runs, findings = run_checks(batches(), corpus, ctx=ctx, checks=checks, workers=workers)
    return runs, findings, corpus, sets


def audit_corpus(
    path: str | Path, *, options: AuditOptions | None = None
) -> tuple[AuditResult, Reread]:
    """Run the chosen checks (default: all) over a corpus folder or JSONL; the one place an
    :class:`AuditResult` is assembled (``credo audit`` and ``credo filter`` both come here).
    ``options.engine="ray"`` runs the checks' batches on a Ray cluster
    (:mod:`credo.audit.ray_engine`), ``options.workers`` > 1 in that many local processes.
    Either way the corpus is streamed: it is never held in memory whole."""
    from credo.audit.ray_engine import check_engine

    options = options or AuditOptions()
    engine, workers, use_embedding = options.engine, options.workers, options.use_embedding
    check_engine(engine, options.address)
    if workers < 1 or (workers > 1 and engine != "local"):
        raise ConfigError(
            f"--workers {workers}: expected 1 or more processes, and only with --engine local "
            "(a Ray cluster sizes its own pool)"
        )
    chosen = build_checks(options.checks, use_embedding, options.check_settings())
    source = records_path(path)
    ctx = build_context(path, options.eval_file, options.worldview)
    if engine == "ray":
        from credo.audit.ray_engine import audit_stream_ray

        runs, findings, corpus, sets = audit_stream_ray(
            source, ctx, chosen, use_embedding=use_embedding, address=options.address
        )
    else:
        runs, findings, corpus, sets = audit_stream(source, ctx, chosen, workers=workers)
    if not corpus.ids:
        raise CorpusError(
            f"{source}: no records - an empty corpus cannot pass an audit; generate it first"
        )
    result = AuditResult(
        source=str(source),
        source_hash=file_hash(str(source)),
        records=len(corpus.ids),
        sets=sets,
        checks=runs,
        findings=findings,
        sections=ctx.sections,
        evals=len(ctx.evals),
        acts=ctx.acts,
    )
    return result, corpus


def run_audit(
    path: str | Path, out: str | Path | None = None, *, options: AuditOptions | None = None
) -> tuple[AuditResult, Path]:
    """Audit a corpus folder or JSONL; write report.json/md/html and flags.jsonl into ``out``."""
    source = records_path(path)
    if out and Path(out).resolve() == source.parent.resolve():
        raise ConfigError(
            f"--out {out}: that is the corpus folder - audit never writes into its input; pick another folder"
        )
    target = (
        Path(out) if out else credo_home() / "audits" / file_hash(str(source)).replace(":", "-")
    )
    # Reports are derived and cheap: an audit may replace its own, never a corpus or labels.
    check_output(target, inputs=[source], replaceable=AUDIT_FILES)
    result, _ = audit_corpus(path, options=options)
    with output_lock(target):
        write_reports(result, target)
    return result, target
