"""A self-contained ``report.html``: inline SVG plots in the shared report template, no external requests."""

from __future__ import annotations

import io
from typing import Any

from credo.audit.result import TABLES_DIR, AuditResult, Table, check_report, verdict, word_diff
from credo.errors import ConfigError
from credo.filters.registry import check_spec


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
    counted = [c for c in result.checks if _counts(c.name)]
    fig, ax = _figure()
    ax.barh(
        [c.name for c in counted],
        [c.flagged for c in counted],
        color=["#cf222e" if c.gate and c.blocking else "#0969da" for c in counted],
    )
    ax.set_xlabel("flagged records (red: a failing gate)")
    ax.set_title("Findings per check")
    ax.invert_yaxis()
    return _svg(fig)


def _counts(name: str) -> bool:
    """A check that can flag records (a report-only diagnostic never does)."""
    try:
        spec = check_spec(name)
    except ConfigError:
        return True
    return spec.gate or spec.drops


def check_plots(result: AuditResult) -> list[str]:
    """Each check's declared plot, in check order."""
    plots = []
    for run in result.checks:
        try:
            spec = check_spec(run.name)
        except ConfigError:
            continue
        if spec.plot is None:
            continue
        fig, ax = _figure()
        if spec.plot(check_report(result, run.name), ax):
            plots.append(_svg(fig))
        else:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return plots


def _marked(runs: list[tuple[str, str, str]], side: int) -> Any:
    from markupsafe import Markup, escape

    parts = [
        escape(text) if kind == "same" else Markup("<mark>") + escape(text) + Markup("</mark>")
        for kind, *texts in runs
        if (text := texts[side])
    ]
    return Markup(" ").join(parts)


def _view(table: Table) -> dict[str, Any]:
    """A table as the page shows it: compared texts with their differing words marked, and a
    link to the full rows when the table is cut short."""
    rows = [list(row) for row in table.rows]
    if table.compare:
        i, j = table.compare
        for row in rows:
            if row[i] and row[j]:
                runs = word_diff(str(row[i]), str(row[j]))
                row[i], row[j] = _marked(runs, 0), _marked(runs, 1)
    link = f"{TABLES_DIR}/{table.key}.jsonl"
    note, _, after = table.note.partition(link)  # the path in the note becomes the link
    return {
        "title": table.title,
        "headers": table.headers,
        "rows": rows,
        "note": note,
        "link": link if _ else "",
        "after": after,
        "gate": table.key.startswith("gate-"),
        "compare": table.compare is not None,
    }


def _plots(result: AuditResult) -> list[str]:
    """The page's SVG plots; none without matplotlib (the ml extra): the core install's page
    still holds the verdict and every table."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return []
    return [plot_flags(result), *check_plots(result)]


def render_html(result: AuditResult, tables: list[Table]) -> str:
    from credo.reports import render_page, trusted

    plots = [trusted(p) for p in _plots(result)]
    return render_page(
        "audit.html.j2",
        title=f"credo audit: {result.source}",
        verdict=verdict(result),
        status="pass" if result.passed else "fail",
        plots=plots,
        tables=[_view(t) for t in tables],
    )
