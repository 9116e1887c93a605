"""``credo judge``: label (request, response) pairs with one or more judges."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import typer

from credo import defaults
from credo.cli._output import JSON_HELP, echo_json
from credo.cli.options import finite


def register(app: typer.Typer) -> None:
    app.command("judge")(judge)


def judge(
    input_path: Path = typer.Argument(
        ...,
        metavar="INPUT.jsonl",
        help="Pairs: prompt/response or messages; or an Inspect eval log (.eval, .json).",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for labels.jsonl, report.json, report.md."),
    judges: list[str] = typer.Option(
        ["offline"],
        "--judge",
        help="offline (the learned classifier), rules, or PROVIDER/MODEL; repeatable.",
    ),
    human: Path | None = typer.Option(
        None,
        "--human",
        help="Human labels (the filled-in review.csv, or CSV/JSONL with id and human_label): "
        "report each judge's agreement with them.",
    ),
    review_sample: int = typer.Option(
        0,
        "--review-sample",
        min=0,
        help="Add this many random pairs (seed 0) to review.csv beside the uncertain ones.",
    ),
    labels: str | None = typer.Option(
        None,
        "--labels",
        help="Field with existing labels to compare (dotted for nested: labels.offline.label).",
    ),
    prompt_field: str | None = typer.Option(
        None, "--prompt-field", help="Field holding the request."
    ),
    response_field: str | None = typer.Option(
        None, "--response-field", help="Field holding the response."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace earlier labels in --out."),
    batch: bool = typer.Option(
        False,
        "--batch",
        help="LLM judges through the provider's batch API (half price); rerun to resume polling.",
    ),
    poll_interval: float = typer.Option(
        defaults.BATCH_POLL_SECONDS,
        "--poll-interval",
        callback=finite,
        help="With --batch: seconds between polls.",
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Label every pair REFUSAL, DEFLECTION or ACCEPTANCE and report agreement (Cohen's kappa).

    Example: credo judge runs/base/responses.jsonl --judge offline --judge openai/gpt-4o-mini
    --labels label --out judged/
    """
    from credo.evaluation.inspect_logs import is_inspect_log
    from credo.judges.run import judge_file

    options = None
    if batch:
        from credo.generators.batch_run import BatchOptions

        options = BatchOptions(
            poll_interval=poll_interval, report=lambda line: typer.echo(line, err=True)
        )
    with (
        _pairs_file(input_path) if is_inspect_log(input_path) else nullcontext(input_path) as pairs
    ):
        result = judge_file(
            pairs,
            out,
            judges,
            labels_field=labels,
            prompt_field=prompt_field,
            response_field=response_field,
            batch=options,
            overwrite=overwrite,
            human=human,
            review_sample=review_sample,
        )
    if as_json:
        echo_json({**result.report, "pairs": result.n, "out": str(out)})
        return
    for name, data in result.report["judges"].items():
        counts = ", ".join(f"{k.lower()} {v}" for k, v in data["counts"].items() if v)
        cost = data.get("accounting", {}).get("cost_usd")
        per_k = f", ${cost / result.n * 1000:.2f} per 1,000 pairs" if cost and result.n else ""
        typer.echo(f"{name}: {counts}" + (f" (cost ${cost:.4f}{per_k})" if cost else ""))
    for row in result.report.get("reference", {}).get("agreement", []) + result.report["agreement"]:
        k3, k2 = row["three_way"]["kappa"], row["two_way"]["kappa"]
        typer.echo(f"{row['a']} vs {row['b']}: kappa 3-way {_fmt(k3)}, 2-way {_fmt(k2)}")
    for name, data in result.report.get("human", {}).get("judges", {}).items():
        k3, k2 = data["kappa_3way"], data["kappa_2way"]
        typer.echo(
            f"{name} vs human ({result.report['human']['n']} pairs): kappa 3-way {_ci(k3)}, "
            f"2-way {_ci(k2)}"
        )
    if "review" in result.report:
        r = result.report["review"]
        typer.echo(f"{r['uncertain'] + r['sampled']} pairs for human review in {out / r['file']}")
    typer.echo(f"wrote {result.n} labelled pairs to {out}")


@contextmanager
def _pairs_file(log: Path) -> Iterator[Path]:
    """An Inspect eval log's samples as a JSONL of pairs, for the length of the judging."""
    from credo.corpora.io import JsonlAppender
    from credo.evaluation.inspect_logs import pair_rows

    rows = pair_rows(log)
    with tempfile.TemporaryDirectory(prefix="credo-inspect-") as tmp:
        path = Path(tmp) / f"{log.stem}.jsonl"
        with JsonlAppender(path) as writer:
            for row in rows:
                writer.write(row)
        yield path


def _ci(data: dict) -> str:
    if data["value"] is None:
        return "n/a"
    return f"{data['value']:.3f} (95% CI {data['low']:.3f}-{data['high']:.3f})"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
