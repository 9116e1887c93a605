"""A self-contained ``report.html``: inline CSS and inline SVG plots, no external requests."""

from __future__ import annotations

import html
import io
from typing import Any

from credo.audit.result import AuditResult, Table, verdict

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#1d2430;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}tr:nth-child(even) td{background:#fafbfc}
.verdict{display:inline-block;padding:.4rem .8rem;border-radius:6px;font-weight:600}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}
.note{color:#57606a;font-size:.85rem}.plots{display:flex;flex-wrap:wrap;gap:1rem}
.plots figure{margin:0;flex:0 1 calc(50% - .5rem);min-width:380px}.plots svg{width:100%;height:auto}
"""


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
    colors = ["#cf222e" if c.gate and c.blocking else "#0969da" for c in result.checks if c.name != "diversity"]
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
        ax.hist(d["answer_lengths"], bins=bins, alpha=0.55, label=f"{name} (n={d['records']})")
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
    lines = ((cfg["paraphrase_cosine"], "paraphrase"), (cfg["near_cosine"], "near neighbour")) if cfg["use_embedding"] else ()
    for value, label in lines:
        ax.axhline(value, linestyle="--", linewidth=1, color="#57606a")
        ax.text(len(scores) - 0.5, value + 0.01, label, ha="right", fontsize=8, color="#57606a")
    ax.set_xlabel("eval requests (sorted)")
    ax.set_ylabel("best cosine to training" if cfg["use_embedding"] else "best MinHash Jaccard")
    ax.set_title("Nearest training record per eval request")
    ax.set_ylim(0, 1.05)
    return _svg(fig)


def _table_html(table: Table) -> str:
    parts = [f"<h2>{html.escape(table.title)}</h2>"]
    if table.note:
        parts.append(f'<p class="note">{html.escape(table.note)}</p>')
    if not table.rows:
        parts.append('<p class="note">(none)</p>')
        return "\n".join(parts)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                   for row in table.rows)
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(parts)


def render_html(result: AuditResult, tables: list[Table]) -> str:
    plots = [p for p in (plot_flags(result), plot_contamination(result), plot_lengths(result)) if p]
    status = "pass" if result.passed else "fail"
    title = html.escape(f"credo audit: {result.source}")
    figures = "".join(f"<figure>{svg}</figure>" for svg in plots)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body><h1>{title}</h1>"
        f'<p><span class="verdict {status}">{html.escape(verdict(result))}</span></p>'
        f'<div class="plots">{figures}</div>' + "\n".join(_table_html(t) for t in tables) + "</body></html>\n"
    )
