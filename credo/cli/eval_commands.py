"""``credo eval`` and ``credo report``: measure refusals, then compare runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from credo import api, defaults
from credo.cli._output import finish, to_stderr
from credo.cli.options import (
    Adapter,
    AsJson,
    ChatFormatFlag,
    JudgeBatch,
    MaxNewTokens,
    Overwrite,
    PollInterval,
    Samples,
    Seed,
    Temperature,
    options_from,
)


def eval_command(
    model: str = typer.Option(
        ..., "--model", help="Model folder, smollm2, or a served PROVIDER/MODEL."
    ),
    worldview: list[str] = typer.Option(
        ..., "--worldview", help="Whose eval requests to use; repeatable."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for responses.jsonl and results.json."),
    adapter: Adapter = None,
    samples: Samples = defaults.EVAL_SAMPLES,
    temperature: Temperature = defaults.EVAL_TEMPERATURE,
    max_new_tokens: MaxNewTokens = defaults.EVAL_MAX_NEW_TOKENS,
    judges: list[str] = typer.Option(
        [], "--judge", help="LLM judge PROVIDER/MODEL (offline always runs)."
    ),
    chat_format: ChatFormatFlag = None,
    batch_size: int = typer.Option(
        defaults.EVAL_BATCH_SIZE, "--batch-size", help="Local generation batch size."
    ),
    seed: Seed = 0,
    limit: int | None = typer.Option(
        None, "--limit", help="At most N violation requests per worldview (with their controls)."
    ),
    batch: JudgeBatch = False,
    poll_interval: PollInterval = defaults.BATCH_POLL_SECONDS,
    belief: bool = typer.Option(
        False, "--belief", help="Also measure belief depth: multiple choice and hold-vs-report."
    ),
    overwrite: Overwrite = False,
    as_json: AsJson = False,
) -> None:
    """Sample K responses to every violation and control request, judge them, report rates.

    Example: credo eval --model smollm2 --adapter runs/g-train --worldview gramenism
    --worldview catholicism --samples 5 --judge openai/gpt-4o-mini --out runs/g-eval
    """
    from credo.evaluation.evaluate import EvalOptions

    options = options_from(EvalOptions, locals())
    result = api.evaluate(model, worldview, out, options=options, log=to_stderr)
    finish({"out": str(out), **result.results}, as_json, _rates(result.results, out))


def _rates(results: dict[str, Any], out: Path) -> str:
    primary, lines = results["primary_judge"], []
    for world, sets in results["judges"][primary]["summary"].items():
        for set_name in ("violation", "control"):
            r = sets[set_name]["rates"]["REFUSAL"]
            lines.append(
                f"{world} {set_name}: refused {r['k']}/{r['n']} = {r['rate']:.0%} "
                f"[{r['low']:.0%}, {r['high']:.0%}] ({primary})"
            )
    for world, depth in results.get("belief_depth", {}).items():
        c, held = depth["choice"], depth["open"]["rates"]["HOLDS"]
        lines.append(
            f"{world} belief: knows {c['k']}/{c['n']} choices (chance {c['chance'] or 0:.0%}); holds it in "
            f"{held['k']}/{held['n']} open answers [{held['low']:.0%}, {held['high']:.0%}] - "
            f"{results['belief_vs_behaviour'][world]}"
        )
    return "\n".join([*lines, f"wrote {results['n_samples']} judged samples to {out}"])


def report_command(
    runs: list[Path] = typer.Argument(
        ...,
        metavar="RUN_DIR...",
        help="Eval folders or Inspect logs of credo/refusal_eval; the first is the baseline.",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for report.md, report.html and the chart."),
    judge: str | None = typer.Option(
        None, "--judge", help="Judge to compare by (default: the runs' primary)."
    ),
    names: list[str] = typer.Option([], "--name", help="Display name per run, in order."),
    as_json: AsJson = False,
) -> None:
    """Compare eval runs side by side: rates, intervals, Fisher tests vs the first run, a bar chart.

    Example: credo report runs/baseline-eval runs/g-eval runs/g-norefusal-eval --out report/
    """
    from credo.evaluation.report import ReportOptions, markdown_table

    result = api.report(runs, out, options=ReportOptions(judge=judge, names=names or None))
    text = f"{markdown_table(result.rows)}\nwrote report of {len(runs)} runs ({result.judge}) to {out}/report.md"
    finish(result, as_json, text)


COMMANDS = {"eval": eval_command, "report": report_command}
