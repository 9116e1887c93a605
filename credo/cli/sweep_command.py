"""``credo sweep``: a dose-response grid (condition x form x size x lr x epochs x seed)."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api
from credo.cli._output import finish, progress_printer, to_stderr
from credo.cli.options import AsJson, options_from


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
    from credo.recipes.sweep import SweepOptions, SweepResult, format_estimate

    options = options_from(SweepOptions, locals())
    result = api.sweep(config, out, options=options, log=progress_printer(as_json))
    if not isinstance(result, SweepResult):  # the estimate alone
        finish(result, as_json, format_estimate(result))
        return
    lines = [
        f"{len(result.done)} cells done, {len(result.skipped)} done earlier, {len(result.failed)} failed; "
        f"report: {result.report}/report.html"
    ]
    if result.failed:
        lines.append("rerun the same command to retry the failed cells")
    finish(result, as_json, "\n".join(lines))
    if result.failed and not result.done and not result.skipped:
        to_stderr(f"error: every cell failed - see {out}/cells/*.json")
        raise typer.Exit(1)


COMMANDS = {"sweep": sweep_command}
