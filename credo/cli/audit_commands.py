"""``credo audit`` and ``credo filter``."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import defaults
from credo.cli._output import JSON_HELP, echo_json


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
    app.command("filter")(filter_)


EMBEDDING_HELP = (
    "fast (static model proposes, MiniLM confirms), minilm (MiniLM reads everything) or "
    "static (the static model decides: no MiniLM; for millions of records)."
)


def audit(
    path: Path = typer.Argument(
        ...,
        help="Corpus folder, JSONL or Parquet file with 'id' and 'messages', or a datasets folder.",
    ),
    eval_file: Path | None = typer.Option(
        None, "--eval", help="JSONL of eval requests (id, prompt, kind)."
    ),
    worldview: str | None = typer.Option(
        None, "--worldview", help="Use this spec's eval sets and forbidden acts."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Report folder (default: under $CREDO_HOME/audits)."
    ),
    checks: str | None = typer.Option(
        None,
        "--checks",
        help="Comma-separated checks (default: all built-in; a plugin's when named).",
    ),
    no_embedding: bool = typer.Option(
        False, "--no-embedding", help="Skip MiniLM (faster, lexical only)."
    ),
    embedding: str = typer.Option("fast", "--embedding", help=EMBEDDING_HELP),
    fidelity_judge: str | None = typer.Option(
        None,
        "--fidelity-judge",
        help="PROVIDER/MODEL judging fidelity with the fidelity_v1 rubric (default: offline).",
    ),
    fidelity_max_rate: float = typer.Option(
        defaults.FIDELITY_MAX_RATE,
        "--fidelity-max-rate",
        min=0.0,
        max=1.0,
        help="Fidelity gate: most a worldview set may have out of voice.",
    ),
    truncation_max_rate: float = typer.Option(
        defaults.TRUNCATION_MAX_RATE,
        "--truncation-max-rate",
        min=0.0,
        max=1.0,
        help="Truncation gate: most of a set that may stop at max tokens (default 0: none).",
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local (this process) or ray (a Ray cluster; see README)."
    ),
    address: str | None = typer.Option(
        None, "--address", help="Ray cluster address (default: start a local one)."
    ),
    workers: int = typer.Option(
        1, "--workers", help="Local engine: map the batches in this many processes (1-512)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    quiet: bool = typer.Option(
        False, "--quiet", help="No progress lines on stderr (long audits print them)."
    ),
) -> None:
    """Audit a corpus; exit 1 when a gate fails (refusal, forbidden request, moral reason, contamination, fidelity).

    Example: credo audit corpora/gramenism --worldview gramenism --out audit/
    """
    from credo.audit import run_audit
    from credo.audit.options import AuditOptions, parse_checks
    from credo.audit.reports import render_text, report_json
    from credo.audit.result import verdict

    options = AuditOptions(
        worldview=worldview,
        eval_file=eval_file,
        checks=parse_checks(checks),
        use_embedding=not no_embedding,
        embedding=embedding,
        fidelity_judge=fidelity_judge,
        fidelity_max_rate=fidelity_max_rate,
        truncation_max_rate=truncation_max_rate,
        engine=engine,
        address=address,
        workers=workers,
    )
    result, target = run_audit(
        path,
        out,
        options=options,
        progress=None if quiet else lambda line: typer.echo(line, err=True),
    )
    if as_json:
        echo_json({**report_json(result), "verdict": verdict(result), "reports": str(target)})
        raise typer.Exit(0 if result.passed else 1)
    typer.echo(render_text(result, target))  # failing gates and their worst records first
    raise typer.Exit(0 if result.passed else 1)


def filter_(
    path: Path = typer.Argument(
        ...,
        help="Corpus folder, JSONL or Parquet file with 'id' and 'messages', or a datasets folder.",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for the clean corpus."),
    eval_file: Path | None = typer.Option(
        None, "--eval", help="JSONL of eval requests (id, prompt, kind)."
    ),
    worldview: str | None = typer.Option(
        None, "--worldview", help="Use this spec's eval sets and forbidden acts."
    ),
    checks: str | None = typer.Option(
        None,
        "--checks",
        help="Comma-separated checks (default: all; diagnostics never drop records).",
    ),
    no_embedding: bool = typer.Option(
        False, "--no-embedding", help="Skip MiniLM (faster, lexical only)."
    ),
    embedding: str = typer.Option("fast", "--embedding", help=EMBEDDING_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a corpus already in --out."),
    output_format: str = typer.Option(
        "jsonl", "--output-format", help="jsonl (records.jsonl) or parquet (records.parquet)."
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local (this process) or ray (a Ray cluster; see README)."
    ),
    address: str | None = typer.Option(
        None, "--address", help="Ray cluster address (default: start a local one)."
    ),
    workers: int = typer.Option(
        1, "--workers", help="Local engine: map the batches in this many processes (1-512)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Write the clean corpus, rejected.jsonl (reason, kept record for duplicates), manifest and card.

    Example: credo filter corpora/gramenism --worldview gramenism --out corpora/gramenism.clean
    """
    from credo.audit import filter_corpus
    from credo.audit.filter import dropped_ids
    from credo.audit.options import FilterOptions, parse_checks

    options = FilterOptions(
        worldview=worldview,
        eval_file=eval_file,
        checks=parse_checks(checks),
        use_embedding=not no_embedding,
        embedding=embedding,
        engine=engine,
        address=address,
        workers=workers,
        overwrite=overwrite,
        output_format=output_format,
    )
    result = filter_corpus(path, out, options=options)
    removed = len(dropped_ids(result))
    if as_json:
        echo_json(
            {
                "records": result.records,
                "kept": result.records - removed,
                "removed": removed,
                "gate_failures": result.gate_failures,
                "out": str(out),
            }
        )
        return
    typer.echo(
        f"kept {result.records - removed} of {result.records} records, removed {removed} - wrote {out}"
    )
