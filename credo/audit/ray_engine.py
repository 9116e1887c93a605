"""The audit on a Ray cluster (``--engine ray``): same checks, same findings, same flags.jsonl.

What runs where:

- per-record checks (refusal, moral_reason, forbidden_request) run in ``map_batches`` on an
  actor pool; each actor builds its checks (and embedding models) once, with a fraction of
  a CPU so that a 2-CPU cluster never deadlocks on two 1-CPU actors;
- near_duplicate: MinHash signatures per batch on the cluster, then one row per
  (band, band key) hash-partitioned (``repartition(keys=...)``) into candidate pairs; the driver verifies
  pairs on the signatures and joins clusters over the small edge list;
- semantic_duplicate, eval_contamination and diversity compare the whole corpus with itself
  or the eval set and run in the driver, as in the local engine.

A worker that dies is restarted and its batch retried (``max_restarts``/``max_task_retries``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from credo.audit.result import CheckRun
from credo.checks.base import AuditContext, Check, Finding
from credo.checks.dedup import NearDuplicateCheck, _report, clusters_from_pairs
from credo.checks.minhash import band_keys, signatures
from credo.checks.registry import build_checks, check_spec
from credo.errors import ConfigError
from credo.types import Record

PER_RECORD = ("refusal", "moral_reason", "forbidden_request")  # findings depend on one record only
BATCH_SIZE = 1024
ACTOR_CPUS = 0.5  # never a whole CPU per actor: leaves room for the tasks feeding the pool
RETRIES = 3
# Fault injection for tests and drills: a path; the first batch that removes it kills its worker.
FAIL_ONCE_ENV = "CREDO_RAY_FAIL_ONCE"


def connect(address: str | None) -> None:
    """Join the cluster at ``address`` (or start a local one); a failure names the address."""
    import ray

    if address and address != "auto":
        _probe(address)
    if ray.is_initialized():
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, ignore_reinit_error=True)
    except Exception as exc:  # ray raises ConnectionError, RuntimeError or ValueError here
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"--address {address}: cannot connect to a Ray cluster ({reason[:160]}) - "
                          f"start one with 'ray start --head' and pass its address") from None


def _probe(address: str) -> None:
    # ray.init retries an unreachable head for minutes; a plain TCP connect answers in seconds.
    import socket

    host, _, port = address.split("://")[-1].rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--address {address}: no Ray cluster answers there ({exc}) - start one with "
                          f"'ray start --head' and pass the address it prints (host:6379)") from None


def _die_once(flag: str | None) -> None:
    if flag:
        try:
            os.remove(flag)
        except FileNotFoundError:
            return
        os._exit(1)


class _RecordChecks:
    """An actor of the pool: the per-record checks, built once, run on each batch."""

    def __init__(self, names: list[str], use_embedding: bool, ctx: AuditContext, fail_once: str | None) -> None:
        self.checks = build_checks(names, use_embedding)
        self.ctx, self.fail_once = ctx, fail_once

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        _die_once(self.fail_once)
        records = [Record.from_json(json.loads(s)) for s in batch["record"]]
        first = int(batch["index"][0])
        rows = []
        for check in self.checks:
            self.ctx.sections.clear()
            start = time.perf_counter()
            found = [(f.record_id, f.details, f.blocking) for f in check.run(records, self.ctx)]
            rows.append(json.dumps({"check": check.name, "first": first, "found": found,
                                    "seconds": time.perf_counter() - start, "sections": self.ctx.sections}))
        return {"result": np.array(rows, dtype=object)}


def _sign(batch: dict[str, np.ndarray], config, fail_once: str | None) -> dict[str, Any]:
    _die_once(fail_once)
    texts = [Record.from_json(json.loads(s)).text for s in batch["record"]]
    return {"index": batch["index"], "sig": signatures(texts, config)}


def _bands(batch: dict[str, np.ndarray], config) -> dict[str, np.ndarray]:
    keys = band_keys(np.stack(batch["sig"]), config)  # (rows, bands)
    n, bands = keys.shape
    return {"band": np.tile(np.arange(bands, dtype=np.int64), n),
            "key": keys.reshape(-1).view(np.int64), "index": np.repeat(batch["index"], bands)}


def _bucket_pairs(block: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pairs within each (band, key) bucket of one hash partition (a bucket never spans two).

    Every member is paired with the bucket's first record, as the local engine does: enough
    for union-find, and the same pairs (so the same scores) on both engines."""
    band, key, index = block["band"], block["key"], block["index"]
    order = np.lexsort((index, key, band))
    band, key, index = band[order], key[order], index[order]
    same = np.flatnonzero((band[1:] == band[:-1]) & (key[1:] == key[:-1]))
    starts = np.flatnonzero(np.concatenate([[True], (band[1:] != band[:-1]) | (key[1:] != key[:-1])]))
    first = index[starts[np.searchsorted(starts, same + 1, side="right") - 1]]
    return {"a": first.astype(np.int64), "b": index[same + 1].astype(np.int64)}


def _near_duplicates(ds, records: Sequence[Record], check: NearDuplicateCheck, ctx: AuditContext,
                     fail_once: str | None) -> list[Finding]:
    cfg = check.config
    signed = ds.map_batches(_sign, fn_kwargs={"config": cfg, "fail_once": fail_once}, batch_size=BATCH_SIZE,
                            num_cpus=ACTOR_CPUS, max_retries=RETRIES).materialize()
    # Hash-partition the (band, key) rows so that a bucket lies in one block, then pair per block.
    pairs_ds = (signed.map_batches(_bands, fn_kwargs={"config": cfg}, batch_size=BATCH_SIZE, num_cpus=ACTOR_CPUS)
                .repartition(max(2, len(records) // (BATCH_SIZE * 4)), keys=["band", "key"])
                .map_batches(_bucket_pairs, batch_size=None, num_cpus=ACTOR_CPUS))
    edges = [(int(r["a"]), int(r["b"])) for r in pairs_ds.iter_rows()]
    pairs = np.unique(np.array(edges, dtype=np.int64).reshape(-1, 2), axis=0)
    # Signatures (not records) come back to the driver to verify the candidate pairs.
    sigs = np.zeros((len(records), cfg.num_perm), dtype=np.uint64)
    for batch in signed.iter_batches(batch_size=BATCH_SIZE, batch_format="numpy"):
        sigs[batch["index"]] = np.stack(batch["sig"])
    scores = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1) if len(pairs) else np.zeros(0)
    keep = scores >= cfg.threshold
    clusters = clusters_from_pairs(len(records), pairs[keep], scores[keep])
    return list(_report(check.name, records, clusters, ctx, check.params()))


def audit_records_ray(records: Sequence[Record], ctx: AuditContext, checks: Sequence[Check],
                      use_embedding: bool = True, address: str | None = None) -> tuple[list[CheckRun], list[Finding]]:
    """:func:`credo.audit.runner.audit_records` on Ray: the same runs and findings, in the same order."""
    connect(address)
    import ray.data

    fail_once = os.environ.get(FAIL_ONCE_ENV)
    ds = ray.data.from_items([{"index": i, "record": json.dumps(r.to_json())} for i, r in enumerate(records)])
    names = [c.name for c in checks]
    per_record = [n for n in names if n in PER_RECORD]
    distributed: dict[str, tuple[list[Finding], float]] = {}
    if per_record and records:
        out = ds.map_batches(_RecordChecks, batch_size=BATCH_SIZE, concurrency=(1, 2), num_cpus=ACTOR_CPUS,
                             fn_constructor_kwargs={"names": per_record, "use_embedding": use_embedding,
                                                    "ctx": ctx, "fail_once": fail_once},
                             max_restarts=RETRIES, max_task_retries=RETRIES)
        parts: dict[str, list[tuple[int, list]]] = {n: [] for n in per_record}
        seconds = dict.fromkeys(per_record, 0.0)
        for row in out.iter_rows():
            part = json.loads(row["result"])
            parts[part["check"]].append((part["first"], part["found"]))
            seconds[part["check"]] += part["seconds"]
            ctx.sections.update(part["sections"])
        for name in per_record:
            found = [Finding(rid, name, details, blocking)
                     for _, batch in sorted(parts[name], key=lambda p: p[0]) for rid, details, blocking in batch]
            distributed[name] = (found, round(seconds[name], 3))
    runs, findings = [], []
    for check in checks:
        start = time.perf_counter()
        if check.name in distributed:
            found, spent = distributed[check.name]
        elif isinstance(check, NearDuplicateCheck):
            found = _near_duplicates(ds, records, check, ctx, fail_once) if records else list(check.run(records, ctx))
            spent = round(time.perf_counter() - start, 3)
        else:
            found = list(check.run(records, ctx))
            spent = round(time.perf_counter() - start, 3)
        runs.append(CheckRun(check.name, check_spec(check.name).gate, check.params(), len(found), spent,
                             sum(f.blocking for f in found)))
        findings.extend(found)
    return runs, findings


def check_engine(engine: str, address: str | None) -> None:
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine {engine!r}: expected 'local' or 'ray'")
    if address and engine != "ray":
        raise ConfigError(f"--address {address}: only used with --engine ray")
    if engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("--engine ray: ray is not installed - pip install 'credo[scale]'") from None
