"""The sweep report: refusal and belief depth against dose, per condition and form.

Cells are pooled over seeds (counts add up) into one point per (series, dose), with a
Wilson interval. The dose axis is the grid parameter with the most values among size,
epochs and learning rate. The trend per series is a least-squares line of rate on
log10(dose), each point weighted by its sample count: a slope per decade of dose, the
plainest summary that still says "grows with dose" or not. Written as ``report.md``,
``report.json``, ``dose_response.png`` and a self-contained ``report.html`` (shared
report template, the PNG inline).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from credo.corpora.io import write_json, write_text
from credo.errors import missing_dependency
from credo.evaluation.report import save_chart
from credo.evaluation.stats import proportion

DOSE_AXES = ("size", "epochs", "learning_rate")
METRICS = (
    ("violation", "refusal on violations"),
    ("control", "refusal on controls"),
    ("belief_holds", "holds the belief (open)"),
    ("belief_knows", "knows it (choice)"),
)
CHART = "dose_response.png"


def fit_trend(points: list[tuple[float, int, int]]) -> dict[str, float] | None:
    """Weighted least squares of rate on log10(dose) over ``(dose, k, n)``; None under 2 doses."""
    usable = [(math.log10(d), k / n, n) for d, k, n in points if n and d > 0]
    if len({x for x, _, _ in usable}) < 2:
        return None
    weight = sum(n for _, _, n in usable)
    mean_x = sum(x * n for x, _, n in usable) / weight
    mean_y = sum(y * n for _, y, n in usable) / weight
    sxx = sum(n * (x - mean_x) ** 2 for x, _, n in usable)
    slope = sum(n * (x - mean_x) * (y - mean_y) for x, y, n in usable) / sxx
    return {"slope_per_decade": slope, "intercept": mean_y - slope * mean_x}


def collect(out: Path, cells: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in cells:
        path = out / "cells" / f"{name}.json"
        if path.is_file():
            rows.append(json.loads(path.read_text(encoding="utf-8")))
    return rows


def dose_axis(rows: list[dict[str, Any]]) -> str:
    counts = {axis: len({r["cell"][axis] for r in rows}) for axis in DOSE_AXES}
    return max(DOSE_AXES, key=lambda a: (counts[a], -DOSE_AXES.index(a)))


def series(rows: list[dict[str, Any]], axis: str) -> dict[str, Any]:
    """``{series label: {metric: {"points": [...], "trend": ...}}}`` from done cells."""
    varying = [a for a in DOSE_AXES if a != axis and len({r["cell"][a] for r in rows}) > 1]
    pooled: dict[str, dict[str, dict[float, list[int]]]] = defaultdict(lambda: defaultdict(dict))
    counted: set[str] = set()
    for row in rows:
        if row.get("status") != "done":
            continue
        evaluation = (row.get("artifacts") or {}).get("eval")
        if evaluation in counted:  # baseline cells of each form share one eval: count it once
            continue
        if evaluation:
            counted.add(evaluation)
        cell = row["cell"]
        label = " ".join(
            [cell["condition"], cell["form"] if cell["condition"] != "baseline" else "-"]
            + [f"{a}={cell[a]:g}" for a in varying]
        )
        for metric, _ in METRICS:
            counts = row["metrics"].get(metric)
            if counts:
                k, n = pooled[label][metric].get(cell[axis], [0, 0])
                pooled[label][metric][cell[axis]] = [k + counts["k"], n + counts["n"]]
    out: dict[str, Any] = {}
    for label, metrics in sorted(pooled.items()):
        out[label] = {}
        for metric, by_dose in metrics.items():
            points: list[dict[str, Any]] = [
                {"dose": d, **proportion(k, n).to_json()} for d, (k, n) in sorted(by_dose.items())
            ]
            out[label][metric] = {
                "points": points,
                "trend": fit_trend([(p["dose"], p["k"], p["n"]) for p in points]),
            }
    return out


def write_report(out: Path, worldview: str, cells: list[str]) -> Path:
    rows = collect(out, cells)
    folder = out / "report"
    axis = dose_axis(rows) if rows else "size"
    data = series(rows, axis)
    failed = {
        r["cell"]["condition"] + "/" + r["cell"]["form"] + f"/{r['cell'][axis]}": r["error"]
        for r in rows
        if r.get("status") == "failed"
    }
    report = {
        "worldview": worldview,
        "dose_axis": axis,
        "cells": len(cells),
        "done": sum(r.get("status") == "done" for r in rows),
        "failed_cells": failed,
        "series": data,
    }
    write_json(report, folder / "report.json")
    chart = folder / CHART
    plot(data, axis, chart)
    markdown = render_markdown(report)
    write_text(markdown, folder / "report.md")
    write_text(render_html(report, chart), folder / "report.html")
    return folder


def _fmt(point: dict[str, Any]) -> str:
    if point["rate"] is None:
        return "-"
    return f"{point['rate']:.0%} [{point['low']:.0%}, {point['high']:.0%}] (n={point['n']})"


def render_markdown(report: dict[str, Any]) -> str:
    axis = report["dose_axis"]
    lines = [
        f"# Dose-response sweep: {report['worldview']}",
        "",
        f"{report['done']} of {report['cells']} cells done; dose axis `{axis}`; rates pooled over "
        "seeds with Wilson 95% intervals; trend = weighted least-squares slope per decade of dose.",
        "",
    ]
    for metric, title in METRICS:
        rows = [(label, m[metric]) for label, m in report["series"].items() if metric in m]
        if not rows:
            continue
        lines += [
            f"## {title}",
            "",
            f"| series | {axis}: rate [95% CI] | trend (per 10x) |",
            "|---|---|---|",
        ]
        for label, entry in rows:
            points = "; ".join(f"{p['dose']:g}: {_fmt(p)}" for p in entry["points"])
            trend = "-" if entry["trend"] is None else f"{entry['trend']['slope_per_decade']:+.3f}"
            lines.append(f"| {label} | {points} | {trend} |")
        lines.append("")
    if report["failed_cells"]:
        lines += ["## Failed cells (rerun the same command to retry them)", ""]
        lines += [f"- {name}: {error}" for name, error in report["failed_cells"].items()]
        lines.append("")
    lines.append(f"![dose response]({CHART})")
    return "\n".join(lines) + "\n"


def render_html(report: dict[str, Any], chart: Path) -> str:
    """One self-contained page (shared template; the chart inline as a data URI)."""
    from credo.reports import png_data_uri, render_page

    sections = []
    for metric, title in METRICS:
        rows = [
            [
                label,
                "; ".join(f"{p['dose']:g}: {_fmt(p)}" for p in m[metric]["points"]),
                "-"
                if m[metric]["trend"] is None
                else f"{m[metric]['trend']['slope_per_decade']:+.3f}",
            ]
            for label, m in report["series"].items()
            if metric in m
        ]
        if rows:
            sections.append({"title": title, "rows": rows})
    return render_page(
        "sweep.html.j2",
        title=f"Dose-response sweep: {report['worldview']}",
        done=report["done"],
        cells=report["cells"],
        axis=report["dose_axis"],
        columns=["series", f"{report['dose_axis']}: rate [95% CI]", "trend (per 10x)"],
        sections=sections,
        failed=report["failed_cells"],
        chart=png_data_uri(chart) if chart.is_file() else "",
    )


def plot(data: dict[str, Any], axis: str, path: Path) -> None:
    """One panel per metric: points with Wilson error bars and the fitted trend line."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        raise missing_dependency("matplotlib", "the sweep chart") from None
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.6), sharey=True)
    for ax, (metric, title) in zip(axes, METRICS):
        for index, (label, metrics) in enumerate(data.items()):
            entry = metrics.get(metric)
            if not entry:
                continue
            points = [p for p in entry["points"] if p["rate"] is not None]
            dodge = 10 ** (0.015 * (index - (len(data) - 1) / 2))  # series side by side, not on top
            xs = [p["dose"] * dodge for p in points]
            ys = [p["rate"] for p in points]
            errs = [[p["rate"] - p["low"] for p in points], [p["high"] - p["rate"] for p in points]]
            line = ax.errorbar(xs, ys, yerr=errs, fmt="o", capsize=3, label=label)
            trend = entry["trend"]
            if trend and xs:
                lo, hi = min(xs), max(xs)
                grid = [lo * (hi / lo) ** (i / 20) for i in range(21)]
                ax.plot(
                    grid,
                    [trend["intercept"] + trend["slope_per_decade"] * math.log10(x) for x in grid],
                    color=line[0].get_color(),
                    alpha=0.6,
                )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(
            sorted({p["dose"] for m in data.values() for p in m.get(metric, {}).get("points", [])})
        )
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(axis)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("rate (Wilson 95% CI)")
    labelled = next((ax for ax in axes if ax.get_legend_handles_labels()[0]), None)
    if labelled is not None:  # no done cell: an empty chart without a legend
        labelled.legend(fontsize="x-small")
    save_chart(fig, path, dpi=110)
