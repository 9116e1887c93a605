"""Write a leakage report as JSON, Markdown and self-contained HTML."""

from __future__ import annotations

import html
from pathlib import Path

from credo.corpora.io import write_json, write_text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def leakage_markdown(report: dict, heading: str = "#") -> str:
    """The report as Markdown (``heading`` sets the level, so an audit can nest it)."""
    wv, ref, gate = report["worldview"], report["reference"], report["gate"]
    lines = [
        f"{heading} Leakage check: {wv['name']} ({wv['kind']})",
        "",
        (
            f"Reference: {len(ref['sources'])} file(s), {ref['bytes'] / 1e6:.1f} MB, {ref['tokens']:,} "
            f"words in {ref.get('documents', 0):,} document(s); index {ref['index_bytes'] / 1e6:.1f} MB in "
            f"{ref['shards']} shard(s){' (reused from the cache)' if ref.get('cached') else ''}."
        ),
        "",
        _strength_line(report),
        "",
        _verdict_line(gate),
        "",
        f"{heading}# Terms",
        "",
        "| term | kind | count | verdict | allowed | example |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["terms"]:
        example = row["examples"][0].replace("|", "\\|") if row["examples"] else ""
        count = f"{row['count']}" + (f" (online {row['online_count']})" if "online_count" in row else "")
        lines.append(
            f"| {row['term']} | {row['kind']} | {count} | {_verdict(row)} | "
            f"{'yes' if row['allowed'] else ''} | {example} |"
        )
    lines += ["", f"{heading}# {report['settings']['n']}-gram overlap", ""]
    for group, stats in report["overlap"].items():
        lines.append(
            f"- **{group}**: {stats['found']:,} of {stats['ngrams']:,} n-grams found ({_pct(stats['fraction'])}) "
            f"over {stats['passages_with_ngrams']} passages long enough to have one"
        )
        for top in stats["top"]:
            lines.append(f"  - {top['where']}: {_pct(top['fraction'])} - {top['text'][:160]}")
            if top.get("in_reference"):
                lines.append(f"    - in the reference: {top['in_reference']}")
    return "\n".join(lines) + "\n"


def _verdict(row: dict) -> str:
    return f"{row['verdict']} (weak)" if row.get("weak") else row["verdict"]


def _strength_line(report: dict) -> str:
    strength = report.get("strength")
    if not strength:
        return ""
    return f"**Strength**: {strength['statement']}." if strength["weak"] else f"Strength: {strength['statement']}."


def _verdict_line(gate: dict) -> str:
    if gate["failed"]:
        return (
            f"**FAIL**: {len(gate['collisions'])} term(s) of this invented worldview occur in the reference: "
            f"{', '.join(gate['collisions'])}. Rename them, or mark a deliberate real word with "
            f"`allow_collision: true` in the spec's glossary."
        )
    if gate["collisions"] and not gate["applies"]:
        return f"{len(gate['collisions'])} term(s) occur in the reference (expected: not an invented worldview)."
    return "PASS: no unallowed term of this worldview occurs in the reference."


def leakage_html(report: dict) -> str:
    e = html.escape
    rows = "".join(
        f"<tr class='{e(r['verdict'])}'><td>{e(r['term'])}</td><td>{e(r['kind'])}</td><td>{r['count']}</td>"
        f"<td>{e(_verdict(r))}</td><td>{'yes' if r['allowed'] else ''}</td>"
        f"<td>{'<br>'.join(e(x) for x in r['examples'])}</td></tr>"
        for r in report["terms"]
    )
    groups = "".join(
        f"<li><b>{e(g)}</b>: {s['found']} of {s['ngrams']} n-grams ({_pct(s['fraction'])})<ul>"
        + "".join(f"<li>{e(t['where'])}: {_pct(t['fraction'])} - {e(t['text'][:200])}"
                  f"<br><i>reference:</i> {e(t.get('in_reference') or '')}</li>" for t in s["top"])
        + "</ul></li>"
        for g, s in report["overlap"].items()
    )
    title = f"Leakage check: {report['worldview']['name']}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
        "body{font-family:sans-serif;max-width:70em;margin:auto}td,th{border:1px solid #ccc;padding:4px;"
        "vertical-align:top}table{border-collapse:collapse}.collides td{background:#fde2e2}</style></head>"
        f"<body><h1>{e(title)}</h1><p>{e(_verdict_line(report['gate']))}</p><p>{e(_strength_line(report))}</p>"
        "<h2>Terms</h2><table><tr><th>term</th><th>kind</th><th>count</th><th>verdict</th><th>allowed</th>"
        f"<th>examples</th></tr>{rows}</table><h2>N-gram overlap</h2><ul>{groups}</ul></body></html>\n"
    )


def write_reports(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(report, out_dir / "report.json")
    write_text(leakage_markdown(report), out_dir / "report.md")
    write_text(leakage_html(report), out_dir / "report.html")
