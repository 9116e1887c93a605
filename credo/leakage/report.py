"""Write a leakage report as JSON, Markdown and self-contained HTML."""

from __future__ import annotations

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
        f"Reference: {_reference_line(ref)}",
        "",
        *([f"Checked: {report['checked_at']} (UTC)", ""] if report.get("checked_at") else []),
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
        count = f"{row['count']}" + (
            f" (online {row['online_count']})" if "online_count" in row else ""
        )
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
    return (
        f"**Strength**: {strength['statement']}."
        if strength["weak"]
        else f"Strength: {strength['statement']}."
    )


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


def _plain(markdown: str) -> str:
    """A Markdown line as page text: the HTML shows emphasis with its own styles."""
    return markdown.replace("**", "").replace("`", "")


def _reference_line(ref: dict) -> str:
    documents = f" in {ref['documents']:,} document(s)" if "documents" in ref else ""
    return (
        f"{len(ref['sources'])} file(s), {ref['bytes'] / 1e6:.1f} MB, {ref['tokens']:,} words{documents}; "
        f"index {ref['index_bytes'] / 1e6:.1f} MB in {ref['shards']} shard(s)"
        f"{' (reused from the cache)' if ref.get('cached') else ''}."
    )


def leakage_html(report: dict) -> str:
    """The report as one self-contained page from the shared template (no Markdown in it)."""
    from credo.reports import render_page

    terms = [
        {
            **r,
            "count_text": f"{r['count']}"
            + (f" (online {r['online_count']})" if "online_count" in r else ""),
            "verdict_text": f"{r['verdict']} (weak)" if r.get("weak") else r["verdict"],
        }
        for r in report["terms"]
    ]
    strength = report.get("strength")  # how much a clean result can say, when the check reports it
    groups = [
        {
            "name": g,
            "found": f"{s['found']:,}",
            "ngrams": f"{s['ngrams']:,}",
            "fraction": _pct(s["fraction"]),
            "passages": s["passages_with_ngrams"],
            "top": [
                {
                    "where": t["where"],
                    "fraction": _pct(t["fraction"]),
                    "text": t["text"][:200],
                    "in_reference": t.get("in_reference") or "",
                }
                for t in s["top"]
            ],
        }
        for g, s in report["overlap"].items()
    ]
    return render_page(
        "leakage.html.j2",
        title=f"Leakage check: {report['worldview']['name']} ({report['worldview']['kind']})",
        reference=_reference_line(report["reference"]),
        verdict=_plain(_verdict_line(report["gate"])),
        status="fail" if report["gate"]["failed"] else "pass",
        terms=terms,
        strength=strength["statement"] if strength else "",
        weak=bool(strength and strength["weak"]),
        n=report["settings"]["n"],
        groups=groups,
    )


def write_reports(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(report, out_dir / "report.json")
    write_text(leakage_markdown(report), out_dir / "report.md")
    write_text(leakage_html(report), out_dir / "report.html")
