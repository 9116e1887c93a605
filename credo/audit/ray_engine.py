"""The audit on a Ray cluster (``--engine ray``): same checks, same findings, same flags.jsonl.

What runs where:

- the corpus is read on the cluster (``read_text`` for JSONL, ``read_parquet`` for Parquet;
  a ``datasets`` folder is streamed from the driver) and every check's ``map_batch`` runs in
  ``map_batches`` on an actor pool: each actor builds the checks (and their embedding
  models) once, with a fraction of a CPU so that a 2-CPU cluster never deadlocks on two
  1-CPU actors, or a GPU each when the cluster has GPUs and the audit embeds;
- the partials come back to the driver in corpus order and each check's ``reduce`` folds
  them there, exactly as in the local engine (so the flags are the same);
- near_duplicate's bands are the exception: one row per (band, band key) is
  hash-partitioned (``repartition(keys=...)``) so that a bucket lies in one block, the pairs
  are found per block, and the driver verifies them and joins clusters over the small edge list.

Progress: each actor adds its batch's records and check seconds to a small tally actor,
which the driver reads every second while the map runs (the same lines as the local audit).

A worker that dies is restarted and its batch retried (``max_restarts``/``max_task_retries``).
A bad record fails the read on the cluster; the driver then reads the file itself to name
the line, as the local engine does.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
import uuid
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from credo.audit.engine import (
    Reread,
    finding_store,
    map_batch,
    reduce_checks,
    refuse_repeated_ids,
)
from credo.audit.findings import FindingStore
from credo.audit.progress import AuditProgress
from credo.audit.result import CheckRun
from credo.corpora.columnar import is_columnar, with_meta
from credo.corpora.io import read_records, record_from_line
from credo.errors import ConfigError, CorpusError
from credo.filters.base import AuditContext, Check, Finding, Parts
from credo.filters.dedup import NearDuplicateCheck, Rows
from credo.raycluster import connect
from credo.types import Record

BATCH_SIZE = 1024
ACTOR_CPUS = 0.5  # never a whole CPU per actor: leaves room for the tasks feeding the pool
RETRIES = 3
# Fault injection for tests and drills: a path; the first batch that removes it kills its worker.
FAIL_ONCE_ENV = "CREDO_RAY_FAIL_ONCE"
POLL_SECONDS = 1.0  # how often the driver reads the tally while the map runs


def _die_once(flag: str | None) -> None:
    if flag:
        try:
            os.remove(flag)
        except FileNotFoundError:
            return
        os._exit(1)


class _Tally:
    """Records mapped so far and each check's seconds on them, summed over the actors (a Ray
    actor: the pool's actors add to it, the driver reads it for the progress lines)."""

    def __init__(self) -> None:
        self.done, self.seconds = 0, dict[str, float]()

    def add(self, records: int, seconds: dict[str, float]) -> None:
        self.done += records
        for name, spent in seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + spent

    def read(self) -> tuple[int, dict[str, float]]:
        return self.done, self.seconds


class _BatchChecks:
    """An actor of the pool: every check, built once, mapped over each batch of records."""

    def __init__(
        self,
        checks: list[Check],
        ctx: AuditContext,
        source: str,
        fail_once: str | None,
        tally: Any = None,
    ) -> None:
        self.checks, self.ctx, self.source, self.fail_once = checks, ctx, Path(source), fail_once
        self.tally = tally

    def __call__(self, batch: Any) -> dict[str, np.ndarray]:
        _die_once(self.fail_once)
        records = _records(batch, self.source)
        parts, seconds = map_batch(records, self.checks, self.ctx)
        if self.tally is not None:
            self.tally.add.remote(len(records), seconds)  # fire and forget
        # One row per batch: a key naming the batch, its ids and sets, and the pickled partials.
        return {
            "batch": np.array([uuid.uuid4().hex], dtype=object),
            "ids": np.array([json.dumps([r.id for r in records])], dtype=object),
            "sets": np.array([json.dumps([self.ctx.set_of(r) for r in records])], dtype=object),
            "parts": np.array([pickle.dumps((parts, seconds), protocol=5)], dtype=object),
        }


def _records(batch: Any, source: Path) -> list[Record]:
    """A batch (an Arrow table) of JSONL lines (``text``), driver-sent records (``record``) or
    Parquet rows as Records. Arrow, not numpy: numpy batches turn nested lists into arrays."""
    column = next((c for c in ("text", "record") if c in batch.column_names), None)
    if column:
        rows = [json.loads(line) for line in batch.column(column).to_pylist()]
    else:
        rows = [with_meta(row, source, 0) for row in batch.to_pylist()]
    return [record_from_line(row, source, 0) for row in rows]


def _dataset(source: Path):
    """The corpus as a Ray dataset, read on the cluster where the format allows."""
    import ray.data

    if source.suffix == ".parquet":
        return ray.data.read_parquet(str(source))
    if not is_columnar(source):
        return ray.data.read_text(str(source))

    def lines() -> Iterator[dict[str, str]]:
        for record in read_records(source):
            yield {"record": json.dumps(record.to_json())}

    return ray.data.from_items(list(lines()))


def _bands(
    batch: dict[str, np.ndarray], name: str, offsets: dict[str, int]
) -> dict[str, np.ndarray]:
    """(band, band key, corpus position) rows of one batch's near_duplicate partial."""
    bands_out, keys_out, index_out = [], [], []
    for key, blob in zip(batch["batch"], batch["parts"]):
        keys, _ = pickle.loads(blob)[0][name]
        n, bands = keys.shape
        bands_out.append(np.tile(np.arange(bands, dtype=np.int64), n))
        keys_out.append(keys.reshape(-1).view(np.int64))
        index_out.append(
            np.repeat(np.arange(offsets[key], offsets[key] + n, dtype=np.int64), bands)
        )
    return {"band": _cat(bands_out), "key": _cat(keys_out), "index": _cat(index_out)}


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, np.int64)


def _bucket_pairs(block: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pairs within each (band, key) bucket of one hash partition (a bucket never spans two).

    Every member is paired with the bucket's first record, as the local engine does: enough
    for union-find, and the same pairs (so the same scores) on both engines."""
    band, key, index = block["band"], block["key"], block["index"]
    order = np.lexsort((index, key, band))
    band, key, index = band[order], key[order], index[order]
    same = np.flatnonzero((band[1:] == band[:-1]) & (key[1:] == key[:-1]))
    starts = np.flatnonzero(
        np.concatenate([[True], (band[1:] != band[:-1]) | (key[1:] != key[:-1])])
    )
    first = index[starts[np.searchsorted(starts, same + 1, side="right") - 1]]
    return {"a": first.astype(np.int64), "b": index[same + 1].astype(np.int64)}


def audit_stream_ray(
    source: Path,
    ctx: AuditContext,
    checks: Sequence[Check],
    use_embedding: bool = True,
    address: str | None = None,
    progress: AuditProgress | None = None,
) -> tuple[list[CheckRun], FindingStore, Any, dict[str, int]]:
    """:func:`credo.audit.runner.audit_stream` with the batches mapped on Ray: the same runs,
    findings, corpus and set counts, and the same progress lines."""
    connect(address)
    import ray
    import ray.data

    ray.data.DataContext.get_current().execution_options.preserve_order = (
        True  # batches in corpus order
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    fail_once = os.environ.get(FAIL_ONCE_ENV)
    shuffled = {
        c.name for c in checks if isinstance(c, NearDuplicateCheck)
    }  # banded as a shuffle on the cluster
    gpus = ray.cluster_resources().get("GPU", 0) if use_embedding else 0
    names = [c.name for c in checks]
    resources: dict[str, Any] = (
        {"num_gpus": 1} if gpus else {}
    )  # an embedding actor per GPU when the cluster has them
    # Actors find models and caches where the driver does (a cluster started earlier, or on
    # other machines, has its own environment; paths must exist there, e.g. a shared disk).
    passed = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("CREDO_") or k in ("HF_HUB_OFFLINE", "HF_HOME")
    }
    if passed:
        resources["runtime_env"] = {"env_vars": passed}
    tally = ray.remote(num_cpus=0)(_Tally).remote() if progress is not None else None
    out = _dataset(source).map_batches(
        _BatchChecks,
        batch_size=BATCH_SIZE,
        batch_format="pyarrow",
        concurrency=(1, int(gpus) if gpus else 2),
        num_cpus=ACTOR_CPUS,
        **resources,
        fn_constructor_kwargs={
            "checks": list(checks),
            "ctx": ctx,
            "source": str(source),
            "fail_once": fail_once,
            "tally": tally,
        },
        max_restarts=RETRIES,
        max_task_retries=RETRIES,
    )
    try:
        out = _materialize(out, tally, progress)
        corpus, sets = Reread(source), dict[str, int]()
        store = finding_store(checks)
        parts = {c.name: Parts(c, sink=store.add) for c in checks}
        seconds = dict.fromkeys(names, 0.0)
        offsets: dict[str, int] = {}
        hashes: list[np.ndarray] = []
        for row in out.iter_rows():
            ids, batch_sets = json.loads(row["ids"]), json.loads(row["sets"])
            hashes.append(np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids)))
            offsets[row["batch"]] = len(corpus.ids)
            batch_parts, batch_seconds = pickle.loads(row["parts"])
            for name in names:
                if name not in shuffled:
                    parts[name].add(len(corpus.ids), batch_parts[name])
                seconds[name] += batch_seconds[name]
            corpus.ids.extend(ids)
            for name in batch_sets:
                sets[name] = sets.get(name, 0) + 1
    except (
        Exception
    ) as exc:  # a worker's CorpusError arrives wrapped: let the local reader name the line
        if isinstance(exc, ConfigError):
            raise
        for _ in read_records(source):
            pass
        raise CorpusError(
            f"{source}: the Ray audit failed ({str(exc).strip().splitlines()[-1][:200]})"
        ) from exc
    refuse_repeated_ids(source, hashes)
    banded = {
        c.name: partial(_near_duplicates, out, c, corpus=corpus, offsets=offsets, ctx=ctx)
        for c in checks
        if c.name in shuffled and isinstance(c, NearDuplicateCheck)
    }
    runs = reduce_checks(
        checks,
        parts,
        seconds=seconds,
        corpus=corpus,
        ctx=ctx,
        store=store,
        reducers=banded,
        progress=progress,
    )
    return runs, store, corpus, sets


def _materialize(out: Any, tally: Any, progress: AuditProgress | None) -> Any:
    """Run the map on the cluster; meanwhile a thread turns the tally into progress lines."""
    if progress is None:
        return out.materialize()
    import ray

    def report() -> None:
        done, seconds = ray.get(tally.read.remote())
        progress.mapped(done, seconds)

    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(POLL_SECONDS):
            report()

    poller = threading.Thread(target=poll, name="credo-audit-progress", daemon=True)
    poller.start()
    try:
        materialized = out.materialize()
    finally:
        finished.set()
        poller.join()
    report()  # the last batches' count (throttled like the others)
    ray.kill(tally)
    return materialized


def _near_duplicates(
    out, check: NearDuplicateCheck, corpus, offsets: dict[str, int], ctx: AuditContext
) -> Iterator[Finding]:
    """near_duplicate with its banding as a hash-partition on (band, key) over the cluster."""
    n = len(corpus.ids)
    pairs_ds = (
        out.map_batches(
            _bands,
            fn_kwargs={"name": check.name, "offsets": offsets},
            batch_size=8,
            num_cpus=ACTOR_CPUS,
        )
        .repartition(max(2, n // (BATCH_SIZE * 4)), keys=["band", "key"])
        .map_batches(_bucket_pairs, batch_size=None, num_cpus=ACTOR_CPUS)
    )
    edges = [
        np.stack([b["a"], b["b"]], axis=1)
        for b in pairs_ds.iter_batches(batch_size=None, batch_format="numpy")
        if len(b["a"])
    ]
    pairs = (
        np.unique(np.sort(np.concatenate(edges), axis=1), axis=0)
        if edges
        else np.zeros((0, 2), np.int64)
    )
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    # Signatures (16-bit, not records) come back to the driver to verify the candidate pairs.
    sigs = Rows()
    for row in out.iter_rows():
        sigs.add(pickle.loads(row["parts"])[0][check.name][1])
    return check.verified(pairs, sigs.stack(check.config.num_perm, np.uint16), corpus, ctx)


def check_engine(engine: str, address: str | None) -> None:
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine {engine!r}: expected 'local' or 'ray'")
    if address and engine != "ray":
        raise ConfigError(f"--address {address}: only used with --engine ray")
    if engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError(
                "--engine ray: ray is not installed - pip install 'credo[scale]'"
            ) from None
