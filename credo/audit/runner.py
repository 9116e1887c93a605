"""Run the checks over a corpus, collect findings, decide the gate, write the reports.

``run_audit`` is the library entry point behind ``credo audit``; ``credo filter`` reuses
:func:`audit_corpus`. Which checks exist is :mod:`credo.filters.registry`. The corpus is only read: the reports go to ``out`` (by default a
folder under ``$CREDO_HOME/audits`` named by the corpus hash).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from credo.audit.engine import (
    STREAM_BATCH,
    Reread,
    audit_records,
    audit_stream,
    map_batch,
    reduce_checks,
    run_checks,
)
from credo.audit.options import AuditOptions
from credo.audit.progress import AuditProgress, count_lines
from credo.audit.reports import write_reports
from credo.audit.result import AuditResult, CheckRun
from credo.corpora.card import is_credo_card, write_local_card
from credo.corpora.io import CARD_FILE, MANIFEST_FILE, iter_jsonl, read_manifest, records_path
from credo.corpora.outdir import check_output, output_lock
from credo.errors import ConfigError, CorpusError
from credo.filters.base import AuditContext, EvalItem
from credo.filters.forbidden import acts_from_spec, sacred_terms
from credo.filters.registry import CHECK_NAMES, build_checks
from credo.hashing import file_hash
from credo.paths import credo_home
from credo.runs import report_json_with

AUDIT_FILES = ("report.json", "flags.jsonl")
AUDIT_REPORTS = (*AUDIT_FILES, "report.md", "report.html")
# The result types and the registry's names stay importable from here for older callers.
__all__ = [
    "CHECK_NAMES",
    "STREAM_BATCH",
    "AuditResult",
    "CheckRun",
    "Reread",
    "audit_corpus",
    "audit_records",
    "audit_stream",
    "build_checks",
    "build_context",
    "load_evals",
    "map_batch",
    "reduce_checks",
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


def audit_corpus(
    path: str | Path,
    *,
    options: AuditOptions | None = None,
    progress: Callable[[str], None] | None = None,
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
    if not 1 <= workers <= 512 or (workers > 1 and engine != "local"):
        raise ConfigError(
            f"--workers {workers}: expected 1 to 512 processes, and more than 1 only with --engine local "
            "(a Ray cluster sizes its own pool)"
        )
    chosen = build_checks(options.checks, use_embedding, options.check_settings())
    source = records_path(path)
    ctx = build_context(path, options.eval_file, options.worldview)
    reporter = AuditProgress(count_lines(source), progress) if progress else None
    if engine == "ray":
        from credo.audit.ray_engine import audit_stream_ray

        runs, findings, corpus, sets = audit_stream_ray(
            source,
            ctx,
            chosen,
            use_embedding=use_embedding,
            address=options.address,
            progress=reporter,
        )
    else:
        runs, findings, corpus, sets = audit_stream(
            source, ctx, chosen, workers=workers, progress=reporter
        )
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
    path: str | Path,
    out: str | Path | None = None,
    *,
    options: AuditOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[AuditResult, Path]:
    """Audit a corpus folder or JSONL; write report.json/md/html and flags.jsonl into ``out``.

    An audit into the corpus' own ``audit/`` folder also rewrites the corpus' ``CARD.md`` when
    credo wrote it (never a user's own card), so the card states the audit."""
    source = records_path(path)
    if out and Path(out).resolve() == source.parent.resolve():
        raise ConfigError(
            f"--out {out}: that is the corpus folder - audit never writes into its input; pick another folder"
        )
    target = (
        Path(out) if out else credo_home() / "audits" / file_hash(str(source)).replace(":", "-")
    )
    # Reports are derived and cheap: an audit may replace its own, never a corpus or labels.
    # (a report.md or report.html beside no audit's report.json is a user's: refused)
    mine = report_json_with("source_hash", "gate_failures")
    check_output(target, inputs=[source], replaceable=AUDIT_REPORTS, ours=mine)
    with output_lock(target):  # before the (long) audit: a second run into it refuses at once
        result, _ = audit_corpus(path, options=options, progress=progress)
        write_reports(result, target)
        folder = source.parent
        if target.resolve() == (folder / "audit").resolve() and is_credo_card(folder / CARD_FILE):
            write_local_card(folder)  # the folder's own card now states this audit
    return result, target
