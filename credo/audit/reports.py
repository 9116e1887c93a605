"""Audit reports: ``report.json``, ``report.md``, ``report.html``, ``flags.jsonl`` and, for
every table longer than the reports show, its full rows in ``tables/<name>.jsonl``.

Every report renders the same list of :class:`Table` objects, built from the checks'
declarations (:class:`~credo.filters.spec.CheckSpec`: a findings table, extra tables, a plot),
so this module names no check. The reports lead with the failing gates and their worst
examples; then the checks, their parameters, and each check's tables in the declared order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from credo.audit.examples import answers_of
from credo.audit.html import render_html
from credo.audit.result import TABLES_DIR, AuditResult, Table, check_report, verdict, word_diff
from credo.corpora.io import dumps, write_json, write_text
from credo.errors import ConfigError
from credo.filters.registry import check_spec
from credo.filters.report import CheckReport, FindingsTable, blocking, details_columns
from credo.filters.spec import CheckSpec
from credo.runs import repair_text, write_lines_atomic

MAX_ROWS = 50  # rows a report shows per table; the rest are in the table's JSONL
WORST_SHOWN = 5  # examples per failing gate in the lead


def _spec(name: str) -> CheckSpec | None:
    """A check's declaration; None for a plugin check no longer installed (its run still shows)."""
    try:
        return check_spec(name)
    except ConfigError:
        return None


def _findings_table(spec: CheckSpec | None, report: CheckReport) -> Table | None:
    declared = spec.findings if spec else None
    if declared is None and spec is not None and spec.tables is not None:
        return None  # the check reports through its own tables (duplicate clusters)
    if declared is None:
        title = f"{report.name.replace('_', ' ').capitalize()} findings"
        declared = FindingsTable(title, details_columns(report.findings))
    return declared.table(report.findings)


def _check_tables(result: AuditResult, name: str) -> list[Table]:
    spec, report = _spec(name), check_report(result, name)
    tables = []
    findings = _findings_table(spec, report)
    if findings is not None:
        tables.append(findings)
    if spec is not None and spec.tables is not None:
        tables.extend(spec.tables(report))
    skipped = report.section.get("skipped")
    if isinstance(skipped, str) and skipped and tables:
        tables[0].note = "; ".join(filter(None, [f"skipped - {skipped}", tables[0].note]))
    for table in tables:
        table.key = table.key or f"{name}-{_slug(table.title)}"
    return tables


def failing_gate_tables(result: AuditResult) -> list[Table]:
    """One table per failing gate: what it means, how many records, and the worst of them."""
    worst: dict[str, tuple[list[str], Sequence[list[Any]]]] = {}
    for name in result.gate_failures:
        spec, report = _spec(name), check_report(result, name)
        failing = CheckReport(name, blocking(report.findings), report.section)
        table = _findings_table(spec, failing) or Table(name, ["record"], [])
        worst[name] = (table.headers, table.rows[:WORST_SHOWN])
    # each example with its answer, so the lead reads without opening the records
    ids = {
        str(row[0]) for headers, rows in worst.values() if headers[:1] == ["record"] for row in rows
    }
    answers = answers_of(result.source, ids)
    tables = []
    for name, count in result.gate_failures.items():
        spec = _spec(name)
        headers, rows = worst[name]
        if answers and headers[:1] == ["record"]:
            headers, rows = [*headers, "answer"], [[*r, answers.get(str(r[0]), "")] for r in rows]
        summary = spec.summary if spec and spec.summary else ""
        tables.append(
            Table(
                f"Failing gate: {name} ({count} records)",
                headers,
                rows,
                f"{summary}; the {min(WORST_SHOWN, count)} worst shown, every one below "
                "and in flags.jsonl"
                if summary
                else "the worst shown; every one below and in flags.jsonl",
                key=f"gate-{name}",
            )
        )
    return tables


def _readable(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return value


def _flat(params: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Parameters as (dotted name, value); a config's ``str`` (a compact id) is left out: its
    fields are listed one by one."""
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        if key in ("config", "name") and not prefix and isinstance(value, str):
            continue
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", _readable(value)))
    return out


def parameter_table(result: AuditResult) -> Table:
    rows = [[c.name, name, value] for c in result.checks for name, value in _flat(c.params)]
    return Table(
        "Parameters", ["check", "parameter", "value"], rows, key="parameters", group_first=True
    )


def report_tables(result: AuditResult) -> list[Table]:
    tables = [
        Table(
            "Summary",
            ["corpus", "hash", "records", "sets", "eval requests", "verdict"],
            [
                [
                    result.source,
                    result.source_hash,
                    result.records,
                    ", ".join(f"{k}: {v}" for k, v in result.sets.items()),
                    result.evals,
                    verdict(result),
                ]
            ],
            key="summary",
        ),
        *failing_gate_tables(result),
        Table(
            "Checks",
            ["check", "gate", "flagged", "failing the gate", "seconds"],
            [
                [
                    c.name,
                    "yes" if c.gate else "no",
                    c.flagged,
                    c.blocking if c.gate else "",
                    c.seconds,
                ]
                for c in result.checks
            ],
            key="checks",
        ),
    ]
    for run in result.checks:
        tables.extend(_check_tables(result, run.name))
    tables.append(parameter_table(result))
    return tables


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def shown(table: Table) -> Table:
    """The table as a report shows it: the first rows, and a note saying how many exist and
    where all of them are."""
    if len(table.rows) <= MAX_ROWS and not table.group_first:
        return table
    rows, note = list(table.rows[:MAX_ROWS]), table.note
    if len(table.rows) > MAX_ROWS:
        where = f"{TABLES_DIR}/{table.key or _slug(table.title)}.jsonl"
        note = "; ".join(
            filter(
                None,
                [note, f"showing {MAX_ROWS} of {len(table.rows)} rows; all of them in {where}"],
            )
        )
    if table.group_first:  # a group's name once, on its first row
        rows = [
            ["" if i and row[0] == rows[i - 1][0] else row[0], *row[1:]]
            for i, row in enumerate(rows)
        ]
    return Table(
        table.title, table.headers, rows=rows, note=note, key=table.key, compare=table.compare
    )


def report_json(result: AuditResult) -> dict[str, Any]:
    sections = dict(result.sections)
    for name, section in sections.items():
        spec = _spec(name)
        if spec is not None and spec.json_section is not None:
            sections[name] = spec.json_section(section)
    return {
        "source": result.source,
        "source_hash": result.source_hash,
        "records": result.records,
        "sets": result.sets,
        "eval_requests": result.evals,
        "forbidden_acts": [a.id for a in result.acts],
        "passed": result.passed,
        "gate_failures": result.gate_failures,
        "checks": [asdict(c) for c in result.checks],
        "flagged_records": result.flagged_records(),
        "sections": sections,
    }


def _md_marked(runs: list[tuple[str, str, str]], side: int) -> str:
    return " ".join(
        text if kind == "same" else f"**{text}**" for kind, *texts in runs if (text := texts[side])
    )


def _md_cell(value: Any) -> str:
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: AuditResult) -> str:
    lines = [f"# credo audit: {Path(result.source).name}", "", f"**{verdict(result)}**", ""]
    for table in map(shown, report_tables(result)):
        lines += [f"## {table.title}", ""]
        if table.note:
            lines += [table.note, ""]
        if not table.rows:
            lines += ["(none)", ""]
            continue
        if table.compare:
            lines += ["Differing words in **bold**.", ""]
        lines.append("| " + " | ".join(table.headers) + " |")
        lines.append("|" + "---|" * len(table.headers))
        for row in table.rows:
            cells = list(row)
            if table.compare and cells[table.compare[0]] and cells[table.compare[1]]:
                i, j = table.compare
                runs = word_diff(str(cells[i]), str(cells[j]))
                cells[i], cells[j] = _md_marked(runs, 0), _md_marked(runs, 1)
            lines.append("| " + " | ".join(_md_cell(v) for v in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def render_text(result: AuditResult, target: Path) -> str:
    """The terminal summary: the failing gates and their worst records first, then each check."""
    lines = []
    for table in failing_gate_tables(result):
        lines.append(f"{table.title}: {table.note}")
        for row in table.rows:
            cells = [
                f"{h}={_short_cell(v)}" for h, v in zip(table.headers, row) if v not in ("", None)
            ]
            lines.append("  " + "  ".join(cells))
    for run in result.checks:
        gate = "  [gate]" if run.gate else ""
        lines.append(f"{run.name:<20} flagged {run.flagged:>6}  ({run.seconds:.1f} s){gate}")
    lines.append(f"{verdict(result)} - reports in {target}")
    return "\n".join(lines)


def _short_cell(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _write_full_tables(tables: list[Table], out: Path) -> None:
    """Every table the reports cut short, whole, one JSON object per row."""
    folder = out / TABLES_DIR
    if folder.is_dir():  # an earlier audit's tables would be stale
        for old in folder.glob("*.jsonl"):
            old.unlink()
    for table in tables:
        if len(table.rows) <= MAX_ROWS:
            continue
        folder.mkdir(exist_ok=True)
        lines = (  # one row at a time: a findings table may be millions of rows read from disk
            repair_text(json.dumps(dict(zip(table.headers, row)), ensure_ascii=False, default=str))
            for row in table.rows
        )
        write_lines_atomic(folder / f"{table.key}.jsonl", lines)


def write_reports(result: AuditResult, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tables = report_tables(result)
    for table in tables:
        table.key = table.key or _slug(table.title)
    write_json(report_json(result), out / "report.json")
    write_text(render_markdown(result), out / "report.md")
    write_text(render_html(result, [shown(t) for t in tables]), out / "report.html")
    _write_full_tables(tables, out)
    write_lines_atomic(out / "flags.jsonl", (dumps(entry) for entry in result.iter_flags()))
