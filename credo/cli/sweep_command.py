"""``credo sweep``: a dose-response grid (condition x form x size x lr x epochs x seed)."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.cli._output import echo_json, progress_printer
from credo.cli.options import AsJson


def sweep_command(
    config: Path = typer.Argument(
        ..., metavar="CONFIG.yaml", help="Sweep config (see docs/sweeps.md)."
    ),
    out: Path = typer.Option(..., "--out", help="Sweep folder (rerun the same command to resume)."),
    estimate_only: bool = typer.Option(
        False, "--estimate", help="Print the time and cost estimate and stop."
    ),
    as_json: AsJson = False,
) -> None:
    """Run every cell of a sweep (reusing corpora and adapters), then plot dose against response.

    A failing cell is recorded and the others go on; a rerun retries only failed cells.

    Example: credo sweep docs/sweep-cpu-demo.yaml --out out/sweep
    """
    from credo.recipes.sweep import (
        estimate,
        format_estimate,
        load_sweep_config,
        plan_sweep,
        run_sweep,
    )

    settings = load_sweep_config(config)
    if estimate_only:
        planned = estimate(settings, plan_sweep(settings), out)
        if as_json:
            echo_json(planned)
        else:
            typer.echo(format_estimate(planned))
        return
    result = run_sweep(settings, out, log=progress_printer(as_json), inputs=[config])
    if as_json:
        echo_json(result)
        return
    typer.echo(
        f"{len(result.done)} cells done, {len(result.skipped)} done earlier, {len(result.failed)} failed; "
        f"report: {result.report}/report.html"
    )
    if result.failed:
        typer.echo("rerun the same command to retry the failed cells")
    if result.failed and not result.done and not result.skipped:
        typer.echo(f"error: every cell failed - see {out}/cells/*.json", err=True)
        raise typer.Exit(1)


COMMANDS = {"sweep": sweep_command}
