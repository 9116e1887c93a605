"""``credo audit`` and ``credo filter``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from credo import defaults
from credo.cli._output import finish, to_stderr
from credo.cli.options import (
    Checks,
    CorpusPath,
    Embedding,
    EvalFile,
    NoEmbedding,
    Overwrite,
    SpecWorldview,
    options_from,
    share_option,
    with_engine_flags,
)


@with_engine_flags
def audit(
    path: CorpusPath,
    eval_file: EvalFile = None,
    worldview: SpecWorldview = None,
    out: Path | None = typer.Option(
        None, "--out", help="Report folder (default: under $CREDO_HOME/audits)."
    ),
    checks: Checks = None,
    no_embedding: NoEmbedding = False,
    embedding: Embedding = "fast",
    fidelity_judge: str | None = typer.Option(
        None,
        "--fidelity-judge",
        help="PROVIDER/MODEL judging fidelity with the fidelity_v1 rubric (default: offline).",
    ),
    fidelity_max_rate: Annotated[
        float,
        share_option(
            "fidelity-max-rate", "Fidelity gate: most a worldview set may have out of voice."
        ),
    ] = defaults.FIDELITY_MAX_RATE,
    truncation_max_rate: Annotated[
        float,
        share_option(
            "truncation-max-rate",
            "Truncation gate: most of a set that may stop at max tokens (default 0: none).",
        ),
    ] = defaults.TRUNCATION_MAX_RATE,
    **flags: Any,  # ENGINE_FLAGS
) -> None:
    """Audit a corpus; exit 1 when a gate fails (refusal, forbidden request, moral reason, contamination, fidelity).

    Example: credo audit corpora/gramenism --worldview gramenism --out audit/
    """
    from credo.audit import run_audit
    from credo.audit.options import AuditOptions, parse_checks
    from credo.audit.reports import render_text, report_json
    from credo.audit.result import verdict

    options = options_from(AuditOptions, locals() | flags, checks=parse_checks(checks))
    quiet, as_json = flags["quiet"] or flags["as_json"], flags["as_json"]
    result, target = run_audit(path, out, options=options, progress=None if quiet else to_stderr)
    data = {**report_json(result), "verdict": verdict(result), "reports": str(target)}
    # failing gates and their worst records first
    finish(data, as_json, render_text(result, target), 0 if result.passed else 1)


@with_engine_flags
def filter_(
    path: CorpusPath,
    out: Path = typer.Option(..., "--out", help="Folder for the clean corpus."),
    eval_file: EvalFile = None,
    worldview: SpecWorldview = None,
    checks: Checks = None,
    no_embedding: NoEmbedding = False,
    embedding: Embedding = "fast",
    overwrite: Overwrite = False,
    output_format: str = typer.Option(
        "jsonl", "--output-format", help="jsonl (records.jsonl) or parquet (records.parquet)."
    ),
    **flags: Any,  # ENGINE_FLAGS
) -> None:
    """Write the clean corpus, rejected.jsonl (reason, kept record for duplicates), manifest and card.

    Example: credo filter corpora/gramenism --worldview gramenism --out corpora/gramenism.clean
    """
    from credo.api import filter_corpus
    from credo.audit.filter import dropped_ids
    from credo.audit.options import FilterOptions, parse_checks

    options = options_from(FilterOptions, locals() | flags, checks=parse_checks(checks))
    quiet, as_json = flags["quiet"] or flags["as_json"], flags["as_json"]
    result = filter_corpus(path, out, options=options, progress=None if quiet else to_stderr)
    removed = len(dropped_ids(result))
    kept = result.records - removed
    data = {
        "records": result.records,
        "kept": kept,
        "removed": removed,
        "gate_failures": result.gate_failures,
        "out": str(out),
    }
    text = f"kept {kept} of {result.records} records, removed {removed} - wrote {out}"
    finish(data, as_json, text)


COMMANDS = {"audit": audit, "filter": filter_}
