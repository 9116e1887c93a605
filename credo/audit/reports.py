"""Audit reports: ``report.json``, ``report.md``, ``report.html`` and ``flags.jsonl``.

The Markdown and HTML reports render the same list of :class:`Table` objects, so what a
reader sees in either is the same; the HTML adds plots (:mod:`credo.audit.html`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from credo.audit.html import render_html
from credo.audit.result import AuditResult, Table, verdict
from credo.corpora.io import JsonlAppender, write_json, write_text

MAX_ROWS = 50


def _json_sections(sections: dict[str, Any]) -> dict[str, Any]:
    """Sections without the raw per-record length lists (kept only for plots)."""
    out = dict(sections)
    if "diversity" in out:
        out["diversity"] = {
            k: {kk: vv for kk, vv in v.items() if kk != "answer_lengths"}
            for k, v in out["diversity"].items()
        }
    return out


def report_json(result: AuditResult) -> dict[str, Any]:
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
        "flagged_records": len({f.record_id for f in result.findings}),
        "sections": _json_sections(result.sections),
    }


def _finding_rows(result: AuditResult, check: str, columns) -> list[list[Any]]:
    return [[f.record_id, *columns(f.details)] for f in result.findings if f.check == check][
        :MAX_ROWS
    ]


def report_tables(result: AuditResult) -> list[Table]:
    s = result.sections
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
        ),
        Table(
            "Checks",
            ["check", "gate", "flagged", "seconds", "parameters"],
            [
                [
                    c.name,
                    "yes" if c.gate else "no",
                    c.flagged,
                    c.seconds,
                    c.params.get("config", _short(c.params)),
                ]
                for c in result.checks
            ],
        ),
        Table(
            "Refusals outside the refusal set",
            ["record", "set", "patterns", "P(refusal)"],
            _finding_rows(
                result,
                "refusal",
                lambda d: [d["set"], "; ".join(d["patterns"]), d["probability"]],
            ),
        ),
        Table(
            "Moral reasons in the refusal set",
            ["record", "reasons"],
            _finding_rows(
                result,
                "moral_reason",
                lambda d: ["; ".join(f"{k}: {', '.join(v)}" for k, v in d["reasons"].items())],
            ),
        ),
        Table(
            "Forbidden requests",
            ["record", "act", "word overlap", "cosine", "prompt"],
            _finding_rows(
                result,
                "forbidden_request",
                lambda d: [d["act"], d["word_overlap"], d["cosine"], d["prompt"]],
            ),
            s.get("forbidden_request", {}).get("skipped", ""),
        ),
    ]
    for check in ("near_duplicate", "semantic_duplicate"):
        clusters = s.get(check, {}).get("clusters", [])
        tables.append(
            Table(
                f"{check.replace('_', ' ').capitalize()} clusters",
                ["kept", "removed", "scores"],
                [
                    [c["kept"], ", ".join(c["removed"]), ", ".join(map(str, c["scores"]))]
                    for c in clusters[:MAX_ROWS]
                ],
                f"{len(clusters)} clusters, {s.get(check, {}).get('removed', 0)} records removed"
                if check in s
                else "not run",
            )
        )
    tables.append(_contamination_table(result))
    tables.extend(_fidelity_tables(result))
    tables.extend(_diversity_tables(s.get("diversity", {})))
    return tables


def _short(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("name", "gate"))


def _contamination_table(result: AuditResult) -> Table:
    section = result.sections.get("eval_contamination", {})
    rows = []
    for ev in section.get("evals", []):
        for rank, nb in enumerate(ev["neighbours"][:3]):
            rows.append(
                [
                    ev["eval_id"] if rank == 0 else "",
                    ev["kind"] if rank == 0 else "",
                    ev["prompt"] if rank == 0 else "",
                    nb["id"],
                    nb["prompt"],
                    nb["score"],
                    nb["severity"] or "",
                ]
            )
    flagged = [f for f in result.findings if f.check == "eval_contamination"]
    normative = sum(any(m["normative_form"] for m in f.details["matches"]) for f in flagged)
    note = section.get("skipped") or (
        f"{len(flagged)} training records flagged; {normative} are near neighbours "
        "in normative form (a normative question close to a request for help)"
    )
    return Table(
        "Eval requests and their nearest training records",
        ["eval", "kind", "request", "training record", "training prompt", "score", "severity"],
        rows[: 3 * MAX_ROWS],
        note,
    )


def _fidelity_tables(result: AuditResult) -> list[Table]:
    """Per set, then per template and per persona: which of them make the teacher step out of voice."""
    section = result.sections.get("fidelity")
    if section is None:
        return []
    skipped = "; ".join(f"{k}: {v}" for k, v in section.get("skipped", {}).items())
    sets = section.get("sets", {})
    rows = [
        [
            name,
            d["records"],
            d["unfaithful"],
            d["rate"],
            "FAIL" if d["gate_failed"] else "ok",
            ", ".join(f"{k} ({v})" for k, v in d["labels"].items()),
        ]
        for name, d in sets.items()
    ]
    max_rate = section.get("params", {}).get("max_rate")
    tables = [
        Table(
            "Worldview fidelity per set",
            ["set", "records", "unfaithful", "rate", "gate", "verdicts"],
            rows,
            f"gate: more than {max_rate} of a set's answers unfaithful (judge: "
            f"{section.get('params', {}).get('judge')})"
            + (f"; skipped - {skipped}" if skipped else ""),
        )
    ]
    for key, title in (("by_template", "template"), ("by_persona", "persona")):
        rows = [
            [
                name,
                group,
                d["records"],
                d["unfaithful"],
                d["rate"],
                ", ".join(f"{k} ({v})" for k, v in d["labels"].items()),
            ]
            for name, data in sets.items()
            for group, d in data[key].items()
        ]
        tables.append(
            Table(
                f"Worldview fidelity per {title}",
                ["set", title, "records", "unfaithful", "rate", "verdicts"],
                rows[:MAX_ROWS],
                "worst first",
            )
        )
    tables.append(
        Table(
            "Answers out of voice",
            ["record", "set", "verdict", "template", "persona", "evidence"],
            _finding_rows(
                result,
                "fidelity",
                lambda d: [d["set"], d["verdict"], d["template"], d["persona"], d["evidence"]],
            ),
        )
    )
    return tables


def _diversity_tables(diversity: dict[str, Any]) -> list[Table]:
    if not diversity:
        return []
    rows = [
        [
            name,
            d["records"],
            d["distinct_1"],
            d["distinct_2"],
            d["prompt_distinct_2"],
            d["answer_words"]["p50"],
            d["answer_words"]["p90"],
            len(d["templates"]),
            len(d["personas"]),
            ", ".join(f"{k} ({v})" for k, v in list(d["personas"].items())[:4]),
        ]
        for name, d in diversity.items()
    ]
    # past their caps, distinct-n figures are sketched and sentence/name counts lower bounds
    estimated = "; ".join(
        f"{name} {key}: {how}"
        for name, d in diversity.items()
        for key, how in d.get("estimated", {}).items()
    )
    tables = [
        Table(
            "Diversity per set",
            [
                "set",
                "records",
                "distinct-1",
                "distinct-2",
                "prompt distinct-2",
                "answer words p50",
                "p90",
                "templates",
                "personas",
                "persona use",
            ],
            rows,
            f"estimated - {estimated}" if estimated else "",
        )
    ]
    repeats = [
        [name, sentence, count]
        for name, d in diversity.items()
        for sentence, count in d["repeated_sentences"][:5]
    ]
    names = [
        [name, ", ".join(f"{n} ({c})" for n, c in d["names"])] for name, d in diversity.items()
    ]
    tables.append(
        Table("Most repeated sentences (mode collapse)", ["set", "sentence", "count"], repeats)
    )
    tables.append(Table("Most frequent names", ["set", "names"], names))
    return tables


def _md_cell(value: Any) -> str:
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: AuditResult) -> str:
    lines = [f"# credo audit: {Path(result.source).name}", "", f"**{verdict(result)}**", ""]
    for table in report_tables(result):
        lines += [f"## {table.title}", ""]
        if table.note:
            lines += [table.note, ""]
        if table.rows:
            lines.append("| " + " | ".join(table.headers) + " |")
            lines.append("|" + "---|" * len(table.headers))
            lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
        else:
            lines.append("(none)")
        lines.append("")
    return "\n".join(lines)


def write_reports(result: AuditResult, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(report_json(result), out / "report.json")
    write_text(render_markdown(result), out / "report.md")
    write_text(render_html(result, report_tables(result)), out / "report.html")
    flags = out / "flags.jsonl"
    tmp = flags.with_name("flags.jsonl.tmp")
    tmp.unlink(missing_ok=True)
    with JsonlAppender(tmp) as writer:
        for entry in result.flags():
            writer.write(entry)
    tmp.replace(flags)
