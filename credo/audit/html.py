"""A self-contained ``report.html``: inline SVG plots in the shared report template, no external requests."""

from __future__ import annotations

import io
from typing import Any

from credo.audit.result import AuditResult, Table, verdict


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: smaller and searchable
    return plt.subplots(figsize=(width, height))


def plot_flags(result: AuditResult) -> str:
    fig, ax = _figure()
    names = [c.name for c in result.checks if c.name != "diversity"]
    counts = [c.flagged for c in result.checks if c.name != "diversity"]
    colors = [
        "#cf222e" if c.gate and c.blocking else "#0969da"
        for c in result.checks
        if c.name != "diversity"
    ]
    ax.barh(names, counts, color=colors)
    ax.set_xlabel("flagged records (red: a failing gate)")
    ax.set_title("Findings per check")
    ax.invert_yaxis()
    return _svg(fig)


def plot_lengths(result: AuditResult) -> str | None:
    diversity = result.sections.get("diversity")
    if not diversity:
        return None
    import numpy as np

    fig, ax = _figure()
    everything = np.concatenate([np.asarray(d["answer_lengths"]) for d in diversity.values()])
    bins = np.histogram_bin_edges(everything, bins=30)  # shared, so the sets are comparable
    for name, d in diversity.items():
        ax.hist(
            d["answer_lengths"],
            bins=bins,
            alpha=0.55,
            label=f"{name} (n={d['records']})".replace("$", r"\$"),
        )  # no mathtext
    ax.set_xlabel("answer length (words)")
    ax.set_ylabel("records")
    ax.set_title("Answer lengths per set")
    ax.legend(fontsize=8)
    return _svg(fig)


def plot_contamination(result: AuditResult) -> str | None:
    section = result.sections.get("eval_contamination", {})
    evals = [e for e in section.get("evals", []) if e["neighbours"]]
    if not evals:
        return None
    cfg = section["params"]
    fig, ax = _figure()
    evals.sort(key=lambda e: -e["neighbours"][0]["score"])
    scores = [e["neighbours"][0]["score"] for e in evals]
    colors = ["#cf222e" if e["neighbours"][0]["severity"] else "#8c959f" for e in evals]
    ax.bar(range(len(scores)), scores, color=colors)
    lines = (
        ((cfg["paraphrase_cosine"], "paraphrase"), (cfg["near_cosine"], "near neighbour"))
        if cfg["use_embedding"]
        else ()
    )
    for value, label in lines:
        ax.axhline(value, linestyle="--", linewidth=1, color="#57606a")
        ax.text(len(scores) - 0.5, value + 0.01, label, ha="right", fontsize=8, color="#57606a")
    ax.set_xlabel("eval requests (sorted)")
    ax.set_ylabel("best cosine to training" if cfg["use_embedding"] else "best MinHash Jaccard")
    ax.set_title("Nearest training record per eval request")
    ax.set_ylim(0, 1.05)
    return _svg(fig)


def render_html(result: AuditResult, tables: list[Table]) -> str:
    from credo.reports import render_page, trusted

    plots = [
        trusted(p)
        for p in (plot_flags(result), plot_contamination(result), plot_lengths(result))
        if p
    ]
    return render_page(
        "audit.html.j2",
        title=f"credo audit: {result.source}",
        verdict=verdict(result),
        status="pass" if result.passed else "fail",
        plots=plots,
        tables=tables,
    )
