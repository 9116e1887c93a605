"""Run the checks over a corpus, collect findings, decide the gate, write the reports.

``run_audit`` is the library entry point behind ``credo audit``; ``credo filter`` reuses
:func:`audit_corpus`. Which checks exist is :mod:`credo.checks.registry`. The corpus is only read: the reports go to ``out`` (by default a
folder under ``$CREDO_HOME/audits`` named by the corpus hash).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from credo.audit.reports import write_reports
from credo.audit.result import AuditResult, CheckRun
from credo.checks.base import AuditContext, Check, EvalItem, Finding
from credo.checks.dedup import NearDuplicateCheck, near_duplicates
from credo.checks.forbidden import acts_from_spec, sacred_terms
from credo.checks.minhash import signatures
from credo.checks.registry import CHECK_NAMES, build_checks, check_spec
from credo.corpora.io import MANIFEST_FILE, iter_jsonl, read_manifest, read_records, records_path
from credo.corpora.outdir import check_output, output_lock
from credo.errors import ConfigError, CorpusError
from credo.hashing import file_hash
from credo.paths import credo_home
from credo.types import Record

AUDIT_FILES = ("report.json", "flags.jsonl")
# The result types and the registry's names stay importable from here for older callers.
__all__ = ["CHECK_NAMES", "AuditResult", "CheckRun", "audit_corpus", "audit_records", "build_checks",
           "build_context", "load_evals", "run_audit"]


def load_evals(path: str | Path) -> list[EvalItem]:
    """Eval requests from JSONL: ``id``, ``prompt`` and optional ``kind`` (violation/control)."""
    items = []
    for number, data in iter_jsonl(Path(path)):
        if not isinstance(data.get("id"), (str, int)) or not isinstance(data.get("prompt"), str):
            raise CorpusError(f"{path}:{number}: expected an eval request with 'id' and 'prompt' (got keys {sorted(data)})")
        kind = str(data.get("kind", "violation"))
        if kind not in ("violation", "control"):
            raise CorpusError(f"{path}:{number}: 'kind' must be 'violation' or 'control', got {kind!r}")
        items.append(EvalItem(str(data["id"]), data["prompt"], kind))
    return items


def build_context(path: str | Path, eval_path: str | Path | None = None, worldview: str | None = None) -> AuditContext:
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


def audit_records(records: Sequence[Record], ctx: AuditContext, checks: Sequence[Check]) -> tuple[list[CheckRun], list[Finding]]:
    runs, findings = [], []
    for check in checks:
        start = time.perf_counter()
        found = list(check.run(records, ctx))
        runs.append(CheckRun(check.name, check_spec(check.name).gate, check.params(), len(found),
                             round(time.perf_counter() - start, 3), sum(f.blocking for f in found)))
        findings.extend(found)
    return runs, findings


# Checks whose findings on a record depend on that record alone: run batch by batch.
PER_RECORD = ("refusal", "moral_reason", "forbidden_request")
STREAM_BATCH = 4096


class _Id:
    """What near_duplicate keeps of a record in the streamed audit: its id."""

    __slots__ = ("id",)

    def __init__(self, rid: str) -> None:
        self.id = rid


class Reread:
    """The corpus' records, read again from the file on each pass (never all held at once)."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def __iter__(self):
        return read_records(self.source)


def streams(checks: Sequence[Check]) -> bool:
    """True when every chosen check is per-record or near_duplicate (signatures only)."""
    return all(c.name in PER_RECORD or isinstance(c, NearDuplicateCheck) for c in checks)


def audit_stream(source: Path, ctx: AuditContext, checks: Sequence[Check],
                 batch: int | None = None) -> tuple[list[CheckRun], list[Finding], int, dict[str, int]]:
    """:func:`audit_records` over batches of ``batch`` records: peak memory is one batch plus
    the near_duplicate signatures. The same runs and findings, in the same order."""
    found: dict[str, list[Finding]] = {c.name: [] for c in checks}
    seconds = dict.fromkeys(found, 0.0)
    sigs, ids, sets, n = [], [], {}, 0
    near = [c for c in checks if isinstance(c, NearDuplicateCheck)]
    chunk: list[Record] = []

    def flush() -> None:
        for check in checks:
            start = time.perf_counter()
            if check in near:
                if chunk:
                    sigs.append(signatures([r.text for r in chunk], check.config))
            else:
                found[check.name].extend(check.run(chunk, ctx))
            seconds[check.name] += time.perf_counter() - start
        chunk.clear()

    for record in read_records(source):
        n += 1
        sets[ctx.set_of(record)] = sets.get(ctx.set_of(record), 0) + 1
        if near:
            ids.append(_Id(record.id))
        chunk.append(record)
        if len(chunk) >= (batch or STREAM_BATCH):
            flush()
    if chunk or n == 0:  # an empty corpus still runs each check once (a check may note why it skipped)
        flush()
    for check in near:
        start = time.perf_counter()
        found[check.name] = list(near_duplicates(check, ids, np.concatenate(sigs) if sigs else None, ctx))
        seconds[check.name] += time.perf_counter() - start
    runs = [CheckRun(c.name, check_spec(c.name).gate, c.params(), len(found[c.name]), round(seconds[c.name], 3),
                     sum(f.blocking for f in found[c.name])) for c in checks]
    return runs, [f for c in checks for f in found[c.name]], n, sets


def audit_corpus(path: str | Path, eval_path: str | Path | None = None, worldview: str | None = None,
                 checks: Sequence[str] | None = None, use_embedding: bool = True,
                 options: Mapping[str, Mapping[str, Any]] | None = None, engine: str = "local",
                 address: str | None = None) -> tuple[AuditResult, Sequence[Record] | Reread]:
    """Run the chosen checks (default: all) over a corpus folder or JSONL; the one place an
    :class:`AuditResult` is assembled (``credo audit`` and ``credo filter`` both come here).
    ``options`` are per-check settings, e.g. ``{"fidelity": {"judge": ..., "config": ...}}``;
    ``engine="ray"`` runs the checks on a Ray cluster (:mod:`credo.audit.ray_engine`)."""
    from credo.audit.ray_engine import check_engine

    check_engine(engine, address)
    chosen = build_checks(checks, use_embedding, options)
    source = records_path(path)
    ctx = build_context(path, eval_path, worldview)
    if engine == "local" and streams(chosen):
        runs, findings, n, sets = audit_stream(source, ctx, chosen)
        if not n:
            raise CorpusError(f"{source}: no records - an empty corpus cannot pass an audit; generate it first")
        result = AuditResult(str(source), file_hash(str(source)), n, sets, runs, findings, ctx.sections,
                             len(ctx.evals), ctx.acts)
        return result, Reread(source)
    records = list(read_records(source))
    if not records:
        raise CorpusError(f"{source}: no records - an empty corpus cannot pass an audit; generate it first")
    if engine == "ray":
        from credo.audit.ray_engine import audit_records_ray

        runs, findings = audit_records_ray(records, ctx, chosen, use_embedding, address)
    else:
        runs, findings = audit_records(records, ctx, chosen)
    sets: dict[str, int] = {}
    for record in records:
        sets[ctx.set_of(record)] = sets.get(ctx.set_of(record), 0) + 1
    result = AuditResult(str(source), file_hash(str(source)), len(records), sets, runs, findings, ctx.sections,
                         len(ctx.evals), ctx.acts)
    return result, records


def run_audit(path: str | Path, out: str | Path | None = None, eval_path: str | Path | None = None,
              worldview: str | None = None, checks: Sequence[str] | None = None,
              use_embedding: bool = True,
              options: Mapping[str, Mapping[str, Any]] | None = None, engine: str = "local",
              address: str | None = None) -> tuple[AuditResult, Path]:
    """Audit a corpus folder or JSONL; write report.json/md/html and flags.jsonl into ``out``."""
    source = records_path(path)
    if out and Path(out).resolve() == source.parent.resolve():
        raise ConfigError(f"--out {out}: that is the corpus folder - audit never writes into its input; pick another folder")
    target = Path(out) if out else credo_home() / "audits" / file_hash(str(source)).replace(":", "-")
    # Reports are derived and cheap: an audit may replace its own, never a corpus or labels.
    check_output(target, inputs=[source], replaceable=AUDIT_FILES)
    result, _ = audit_corpus(path, eval_path, worldview, checks, use_embedding, options, engine, address)
    with output_lock(target):
        write_reports(result, target)
    return result, target
