"""``credo report``: eval runs side by side, with intervals and a test for each difference.

The first run is the baseline; every other run's refusal rate on each (worldview, set) is
compared with it by Fisher's exact test (two-proportion z alongside). All runs are read
with one judge - the first run's primary judge when every run has it, else ``offline`` - so
a difference is never a change of judge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.io import write_json, write_text
from credo.errors import ConfigError, CorpusError, explain, missing_dependency
from credo.evaluation.evaluate import RESULTS_FILE
from credo.evaluation.stats import compare_proportions
from credo.judges.base import DEFLECTION, REFUSAL
from credo.redact import scrub_data
from credo.runs import atomic_path, check_output, claim_output, report_json_with

REPORT_MD, REPORT_HTML, REPORT_JSON, CHART_PNG = (
    "report.md",
    "report.html",
    "report.json",
    "refusal_rates.png",
)
# an earlier report's files are replaced; a user's report.md of the same name is not
OURS = report_json_with("judge", "runs", "rows")


@dataclass(frozen=True)
class ReportResult:
    out: Path
    judge: str
    rows: list[dict[str, Any]]


def _plain(label: str) -> str:
    """A chart label drawn as typed: ``$...$`` would be parsed as matplotlib mathtext."""
    return str(label).replace("$", r"\$")


_NOT_JSON = "{path}: not readable JSON ({exc.__class__.__name__}) - rerun credo eval"
# A results file that does not parse, by the exception (the first that matches).
_UNREADABLE: dict[type[BaseException], str] = {
    json.JSONDecodeError: "{path}:{exc.lineno}: not valid JSON ({exc.msg}) - rerun credo eval",
    RecursionError: _NOT_JSON,
    UnicodeDecodeError: _NOT_JSON,
}


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """A ``credo eval`` folder's results, or an Inspect log of ``credo/refusal_eval`` read as one."""
    from credo.evaluation.inspect_logs import is_inspect_log, results_from_log

    if is_inspect_log(Path(run_dir)):
        # a log made elsewhere may name a model with its key (openai/gpt-x?api-key=...): every
        # name and config value it lends the report is scrubbed, as credo's own results are
        return scrub_data(results_from_log(Path(run_dir)))
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise CorpusError(f"{run_dir}: no {RESULTS_FILE} - pass folders written by credo eval")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except tuple(_UNREADABLE) as exc:
        raise CorpusError(explain(exc, _UNREADABLE, path=path)) from None
    if not isinstance(data, dict) or data.get("kind") != "credo_eval":
        raise CorpusError(f"{path}: not a credo eval result - pass folders written by credo eval")
    return scrub_data(data)  # an older or hand-edited results.json too


def choose_judge(runs: Sequence[dict[str, Any]], judge: str | None) -> str:
    if judge is None:
        first = runs[0].get("primary_judge", "offline")
        judge = first if all(first in r["judges"] for r in runs) else "offline"
    missing = [r["name"] for r in runs if judge not in r["judges"]]
    if missing:
        raise ConfigError(
            f"judge '{judge}' did not label run(s) {', '.join(missing)} - pick a judge "
            "every run has (--judge offline always works)"
        )
    return judge


def comparison_rows(runs: Sequence[dict[str, Any]], judge: str) -> list[dict[str, Any]]:
    """One row per (worldview, set, run): refusal and deflection rates, difference vs run 1."""
    rows = []
    cells = [
        (w, s)
        for w, sets in runs[0]["judges"][judge]["summary"].items()
        for s in ("violation", "control")
        if s in sets
    ]
    for r in runs[1:]:
        cells += [
            (w, s)
            for w, sets in r["judges"][judge]["summary"].items()
            for s in ("violation", "control")
            if s in sets and (w, s) not in cells
        ]
    for world, set_name in cells:
        base = _cell(runs[0], judge, world, set_name)
        for run in runs:
            cell = _cell(run, judge, world, set_name)
            row = {
                "worldview": world,
                "set": set_name,
                "run": run["name"],
                "refusal": cell and cell[REFUSAL],
                "deflection": cell and cell[DEFLECTION],
                "vs_baseline": None,
            }
            if cell and base and run is not runs[0]:
                b, c = base[REFUSAL], cell[REFUSAL]
                row["vs_baseline"] = compare_proportions(b["k"], b["n"], c["k"], c["n"]).to_json()
            rows.append(row)
    return rows


def _cell(run: dict[str, Any], judge: str, world: str, set_name: str) -> dict[str, Any] | None:
    summary = run["judges"][judge]["summary"].get(world, {}).get(set_name)
    return summary["rates"] if summary else None


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """``judge``: the judge to compare by (default: the runs' primary, else offline);
    ``names``: a display name per run, in order (default: each folder's)."""

    judge: str | None = None
    names: Sequence[str] | None = None


def report(
    run_dirs: Sequence[str | Path], out: str | Path, *, options: ReportOptions | None = None
) -> ReportResult:
    """Write report.md, report.html, report.json and a bar chart (PNG) comparing eval runs."""
    o = options or ReportOptions()
    judge, names = o.judge, o.names
    if not run_dirs:
        raise ConfigError("credo report needs at least one eval run folder")
    files = (REPORT_JSON, REPORT_MD, REPORT_HTML, CHART_PNG)
    check_output(
        out, inputs=_run_files(run_dirs), replaceable=files, command="credo report", ours=OURS
    )
    runs = [load_run(d) for d in run_dirs]
    if names:
        if len(names) != len(runs):
            raise ConfigError(
                f"--name given {len(names)} times for {len(runs)} runs - name every run or none"
            )
        runs = [{**r, "name": n} for r, n in zip(runs, names)]
    duplicate = {r["name"] for r in runs if sum(x["name"] == r["name"] for x in runs) > 1}
    if duplicate:  # two runs named alike would share a column
        runs = [{**r, "name": f"{r['name']}#{i + 1}"} for i, r in enumerate(runs)]
    judge = choose_judge(runs, judge)
    out = Path(out)
    rows = comparison_rows(runs, judge)
    claim: dict[str, Any] = {"replaceable": files, "command": "credo report", "ours": OURS}
    with claim_output(out, inputs=_run_files(run_dirs), **claim):
        _write(out, runs, run_dirs=run_dirs, judge=judge, rows=rows)
    return ReportResult(out, judge, rows)


def _run_files(run_dirs: Sequence[str | Path]) -> list[Path]:
    """What the report reads from each run (an eval folder or an Inspect log): never replaced."""
    files = []
    for given in run_dirs:
        path = Path(given)
        files += (
            [path / name for name in ("results.json", "responses.jsonl")]
            if path.is_dir()
            else [path]
        )
    return files


def _write(
    out: Path,
    runs: list[dict[str, Any]],
    *,
    run_dirs: Sequence[str | Path],
    judge: str,
    rows: list[dict[str, Any]],
) -> None:
    plot_chart(rows, [r["name"] for r in runs], out / CHART_PNG)
    write_json(
        {
            "judge": judge,
            "runs": [
                {"name": r["name"], "dir": str(d), "config": r["config"]}
                for r, d in zip(runs, run_dirs)
            ],
            "rows": rows,
        },
        out / REPORT_JSON,
    )
    table = markdown_table(rows)
    header = (
        f"# Refusal report\n\nJudge: `{judge}`. Baseline: `{runs[0]['name']}`. Rates with Wilson 95% "
        "intervals; p = Fisher's exact test of each run's refusal rate against the baseline's.\n"
    )
    write_text(f"{header}\n{table}\n![refusal rates]({CHART_PNG})\n", out / REPORT_MD)
    write_text(html_page(judge, runs[0]["name"], rows, out / CHART_PNG), out / REPORT_HTML)


def _fmt(rate: dict[str, Any] | None) -> str:
    if not rate or rate["rate"] is None:
        return "-"
    return f"{rate['k']}/{rate['n']} = {rate['rate']:.0%} [{rate['low']:.0%}, {rate['high']:.0%}]"


def _diff(row: dict[str, Any]) -> tuple[str, str]:
    cmp = row["vs_baseline"]
    if not cmp or cmp["difference"] is None:
        return "", ""
    return f"{cmp['difference']:+.0%}", f"{cmp['p_fisher']:.3g}"


COLUMNS = ("worldview", "set", "run", "refused", "deflected", "diff vs baseline", "p (Fisher)")


def _cells(row: dict[str, Any]) -> list[str]:
    return [
        row["worldview"],
        row["set"],
        row["run"],
        _fmt(row["refusal"]),
        _fmt(row["deflection"]),
        *_diff(row),
    ]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def html_page(judge: str, baseline: str, rows: list[dict[str, Any]], chart: Path) -> str:
    """One self-contained page: the table as HTML and the chart inline (base64), no Markdown."""
    from credo.reports import png_data_uri, render_page

    return render_page(
        "eval.html.j2",
        title="Refusal report",
        judge=judge,
        baseline=baseline,
        columns=COLUMNS,
        rows=[_cells(r) for r in rows],
        chart=png_data_uri(chart),
    )


def plot_chart(rows: list[dict[str, Any]], run_names: list[str], path: Path) -> None:
    """Grouped bars per (worldview, set), one bar per run, Wilson intervals as error bars."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise missing_dependency("matplotlib", "the report chart") from None
    groups = list(dict.fromkeys((r["worldview"], r["set"]) for r in rows))
    width = 0.8 / max(1, len(run_names))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(groups) + 2), 4))
    for i, name in enumerate(run_names):
        xs, ys = [], []
        errs: list[list[float]] = [[], []]
        for g, group in enumerate(groups):
            rate = next(
                (
                    r["refusal"]
                    for r in rows
                    if (r["worldview"], r["set"]) == group and r["run"] == name
                ),
                None,
            )
            if rate and rate["rate"] is not None:
                xs.append(g + (i - (len(run_names) - 1) / 2) * width)
                ys.append(rate["rate"])
                errs[0].append(rate["rate"] - rate["low"])
                errs[1].append(rate["high"] - rate["rate"])
        ax.bar(xs, ys, width, yerr=errs, capsize=3, label=_plain(name))
    ax.set_xticks(range(len(groups)), [_plain(f"{w}\n{s}") for w, s in groups])
    ax.set_ylim(0, 1)
    ax.set_ylabel("refusal rate (Wilson 95% CI)")
    ax.legend(fontsize="small")
    save_chart(fig, path, dpi=120)


def save_chart(fig: Any, path: Path, dpi: int) -> None:
    """Write a matplotlib figure atomically (a half-written PNG never replaces a good one)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
