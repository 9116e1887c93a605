"""``credo batches OUT``: the batches a ``credo generate --batch`` run sent, live from the provider."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api
from credo.cli._output import finish
from credo.cli.options import AsJson, options_from


def batches(
    out: Path = typer.Argument(..., help="Corpus folder of a `credo generate --batch` run."),
    cancel: bool = typer.Option(False, "--cancel", help="Cancel every batch still open."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="API base URL (default: the run's)."
    ),
    as_json: AsJson = False,
) -> None:
    """Show (or cancel) the provider batches of a corpus folder; rerun generate to collect.

    Example: credo batches out/gramenism --cancel
    """
    from credo.generators.batch_run import BatchesOptions

    report = api.batches(out, options=options_from(BatchesOptions, locals()))
    lines = [
        f"{report['model']}: {len(report['chunks'])} chunk(s), {report['open']} open, "
        f"{report['rejected_requests']} request(s) rejected"
    ]
    lines += [_chunk_line(row) for row in report["chunks"]]
    finish(report, as_json, "\n".join(lines))


def _chunk_line(row: dict) -> str:
    live = row.get("live_state")
    state = row["state"] if live is None else f"{live} (live)"
    if live == "unknown":
        state = "unknown to the provider - its requests are sent again by the next run"
    counts = row.get("collected") or row.get("provider_counts") or {}
    counted = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    cancelled = " cancel requested;" if row.get("cancel_requested") else ""
    return (
        f"  {row['name']} {row['batch_id'] or '-'}: {row['requests']} requests;"
        f"{cancelled} {state}" + (f"; {counted}" if counted else "")
    )


COMMANDS = {"batches": batches}
