"""``credo eval`` and ``credo report``: measure refusals, then compare runs."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import defaults
from credo.cli._output import JSON_HELP, echo_json
from credo.cli.options import finite


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("report")(report_command)


def eval_command(
    model: str = typer.Option(
        ..., "--model", help="Model folder, smollm2, or a served PROVIDER/MODEL."
    ),
    worldview: list[str] = typer.Option(
        ..., "--worldview", help="Whose eval requests to use; repeatable."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for responses.jsonl and results.json."),
    adapter: Path | None = typer.Option(
        None, "--adapter", help="LoRA adapter folder from credo train."
    ),
    samples: int = typer.Option(
        defaults.EVAL_SAMPLES, "--samples", help="Samples per request (K)."
    ),
    temperature: float = typer.Option(
        defaults.EVAL_TEMPERATURE, "--temperature", callback=finite, help="Sampling temperature."
    ),
    max_new_tokens: int = typer.Option(
        defaults.EVAL_MAX_NEW_TOKENS, "--max-new-tokens", help="Most new tokens per sample."
    ),
    judge: list[str] = typer.Option(
        [], "--judge", help="LLM judge PROVIDER/MODEL (offline always runs)."
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="tags or chat_template (default: the adapter's, else tags)."
    ),
    batch_size: int = typer.Option(
        defaults.EVAL_BATCH_SIZE, "--batch-size", help="Local generation batch size."
    ),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
    limit: int | None = typer.Option(
        None, "--limit", help="At most N violation requests per worldview (with their controls)."
    ),
    batch: bool = typer.Option(
        False, "--batch", help="LLM judges through the provider's batch API (half price)."
    ),
    poll_interval: float = typer.Option(
        defaults.BATCH_POLL_SECONDS, "--poll-interval", help="With --batch: seconds between polls."
    ),
    belief: bool = typer.Option(
        False, "--belief", help="Also measure belief depth: multiple choice and hold-vs-report."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an eval with other options in --out."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Sample K responses to every violation and control request, judge them, report rates.

    Example: credo eval --model smollm2 --adapter runs/g-train --worldview gramenism
    --worldview catholicism --samples 5 --judge openai/gpt-4o-mini --out runs/g-eval
    """
    from credo.evaluation.evaluate import evaluate
    from credo.generators.batch_run import BatchOptions

    batch_options = BatchOptions(  # made (and so checked) even without --batch
        poll_interval=poll_interval, report=lambda line: typer.echo(line, err=True)
    )
    judge_batch = batch_options if batch else None
    result = evaluate(
        model,
        worldview,
        out,
        adapter=adapter,
        samples=samples,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        judges=judge,
        chat_format=fmt,
        batch_size=batch_size,
        seed=seed,
        limit=limit,
        judge_batch=judge_batch,
        belief=belief,
        overwrite=overwrite,
    )
    if as_json:
        echo_json({"out": str(out), **result.results})
        return
    primary = result.results["primary_judge"]
    for world, sets in result.results["judges"][primary]["summary"].items():
        for set_name in ("violation", "control"):
            r = sets[set_name]["rates"]["REFUSAL"]
            typer.echo(
                f"{world} {set_name}: refused {r['k']}/{r['n']} = {r['rate']:.0%} "
                f"[{r['low']:.0%}, {r['high']:.0%}] ({primary})"
            )
    for world, depth in result.results.get("belief_depth", {}).items():
        c, held = depth["choice"], depth["open"]["rates"]["HOLDS"]
        typer.echo(
            f"{world} belief: knows {c['k']}/{c['n']} choices (chance {c['chance'] or 0:.0%}); holds it in "
            f"{held['k']}/{held['n']} open answers [{held['low']:.0%}, {held['high']:.0%}] - "
            f"{result.results['belief_vs_behaviour'][world]}"
        )
    typer.echo(f"wrote {result.results['n_samples']} judged samples to {out}")


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
    name: list[str] = typer.Option([], "--name", help="Display name per run, in order."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Compare eval runs side by side: rates, intervals, Fisher tests vs the first run, a bar chart.

    Example: credo report runs/baseline-eval runs/g-eval runs/g-norefusal-eval --out report/
    """
    from credo.evaluation.report import markdown_table, report

    result = report(runs, out, judge=judge, names=name or None)
    if as_json:
        echo_json(result)
        return
    typer.echo(markdown_table(result.rows))
    typer.echo(f"wrote report of {len(runs)} runs ({result.judge}) to {out}/report.md")
