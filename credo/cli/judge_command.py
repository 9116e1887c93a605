"""``credo judge``: label (request, response) pairs with one or more judges."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from credo import api, defaults
from credo.cli._output import finish, to_stderr
from credo.cli.options import AsJson, JudgeBatch, Overwrite, PollInterval, options_from

if TYPE_CHECKING:
    from credo.judges.run import JudgeRunResult


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
    labels_field: str | None = typer.Option(
        None,
        "--labels",
        help="Field with existing labels to compare (dotted for nested: labels.offline.label).",
    ),
    prompt_field: str | None = typer.Option(None, help="Field holding the request."),
    response_field: str | None = typer.Option(None, help="Field holding the response."),
    overwrite: Overwrite = False,
    batch: JudgeBatch = False,
    poll_interval: PollInterval = defaults.BATCH_POLL_SECONDS,
    as_json: AsJson = False,
) -> None:
    """Label every pair REFUSAL, DEFLECTION or ACCEPTANCE and report agreement (Cohen's kappa).

    Example: credo judge runs/base/responses.jsonl --judge offline --judge openai/gpt-4o-mini
    --labels label --out judged/
    """
    from credo.judges.run import JudgeOptions

    options = options_from(JudgeOptions, locals())
    result = api.judge(input_path, out, options=options, log=to_stderr)
    finish({**result.report, "pairs": result.n, "out": str(out)}, as_json, _text(result, out))


def _text(result: JudgeRunResult, out: Path) -> str:
    report, lines = result.report, []
    for name, data in report["judges"].items():
        counts = ", ".join(f"{k.lower()} {v}" for k, v in data["counts"].items() if v)
        cost = data.get("accounting", {}).get("cost_usd")
        per_k = f", ${cost / result.n * 1000:.2f} per 1,000 pairs" if cost and result.n else ""
        lines.append(f"{name}: {counts}" + (f" (cost ${cost:.4f}{per_k})" if cost else ""))
    for row in report.get("reference", {}).get("agreement", []) + report["agreement"]:
        k3, k2 = row["three_way"]["kappa"], row["two_way"]["kappa"]
        lines.append(f"{row['a']} vs {row['b']}: kappa 3-way {_fmt(k3)}, 2-way {_fmt(k2)}")
    for name, data in report.get("human", {}).get("judges", {}).items():
        k3, k2 = data["kappa_3way"], data["kappa_2way"]
        lines.append(
            f"{name} vs human ({report['human']['n']} pairs): kappa 3-way {_ci(k3)}, 2-way {_ci(k2)}"
        )
    if "review" in report:
        r = report["review"]
        lines.append(f"{r['uncertain'] + r['sampled']} pairs for human review in {out / r['file']}")
    return "\n".join([*lines, f"wrote {result.n} labelled pairs to {out}"])


def _ci(data: dict) -> str:
    if data["value"] is None:
        return "n/a"
    return f"{data['value']:.3f} (95% CI {data['low']:.3f}-{data['high']:.3f})"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


COMMANDS = {"judge": judge}
