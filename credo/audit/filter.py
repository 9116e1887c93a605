"""``credo filter``: write a clean corpus, the rejected records with reasons, a manifest and card.

The filter runs the same checks as the audit and drops every record with a finding of a
chosen check that the registry marks ``drops``. Diagnostics (diversity) never drop anything. The source is only read.
"""

from __future__ import annotations

from pathlib import Path

from credo.audit.options import FilterOptions
from credo.audit.reports import render_markdown, write_reports
from credo.audit.result import AuditResult, verdict
from credo.audit.runner import audit_corpus
from credo.corpora.columnar import PARQUET_FILE, write_parquet
from credo.corpora.io import (
    CARD_FILE,
    MANIFEST_FILE,
    RECORDS_FILE,
    JsonlAppender,
    read_manifest,
    records_path,
    write_json,
    write_records,
    write_text,
)
from credo.corpora.outdir import claim_output
from credo.corpora.provenance import provenance
from credo.errors import ConfigError
from credo.filters.registry import check_spec

REJECTED_FILE = "rejected.jsonl"
OUTPUT_FORMATS = ("jsonl", "parquet")


def filter_corpus(
    path: str | Path, out: str | Path, *, options: FilterOptions | None = None
) -> AuditResult:
    """Drop flagged records; write records.jsonl (or records.parquet), rejected.jsonl,
    manifest.json, CARD.md and audit/."""
    options = options or FilterOptions()
    if options.output_format not in OUTPUT_FORMATS:
        raise ConfigError(
            f"--output-format {options.output_format!r}: expected one of {', '.join(OUTPUT_FORMATS)}"
        )
    source = records_path(path)
    out = Path(out)
    if out.resolve() == source.parent.resolve():
        raise ConfigError(
            f"--out {out}: that is the source corpus folder - write the clean corpus elsewhere"
        )
    with claim_output(out, inputs=[source], overwrite=options.overwrite):
        return _filter(source, out, path=path, options=options)


def _filter(source: Path, out: Path, *, path: str | Path, options: FilterOptions) -> AuditResult:
    result, records = audit_corpus(path, options=options)
    reasons = {flag["id"]: flag for flag in result.flags() if flag["id"] in dropped_ids(result)}
    kept = (
        r for r in records if r.id not in reasons
    )  # one pass; a streamed audit re-reads the file
    out.mkdir(parents=True, exist_ok=True)
    if options.output_format == "parquet":
        n_kept = write_parquet(kept, out / PARQUET_FILE)
    else:
        n_kept = write_records(kept, out / RECORDS_FILE)
    _write_rejected(records, reasons, out / REJECTED_FILE)
    write_reports(result, out / "audit")
    source_manifest = (
        read_manifest(source.parent) if (source.parent / MANIFEST_FILE).is_file() else {}
    )
    write_json(_manifest(result, source_manifest, n_kept, reasons), out / MANIFEST_FILE)
    write_text(_card(source, result, n_kept), out / CARD_FILE)
    return result


def dropped_ids(result: AuditResult) -> set[str]:
    """Records the filter removes: flagged by a check registered to drop (diagnostics only report)."""
    return {f.record_id for f in result.findings if check_spec(f.check).drops}


def _write_rejected(records, reasons: dict[str, dict], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with JsonlAppender(tmp) as writer:
        for record in records:
            flag = reasons.get(record.id)
            if flag is None:
                continue
            kept_as = {
                c: d["kept"]
                for c, d in flag["details"].items()
                if isinstance(d, dict) and "kept" in d
            }
            writer.write(
                {
                    **record.to_json(),
                    "reason": flag["checks"],
                    "duplicate_of": kept_as or None,
                    "details": flag["details"],
                }
            )
    tmp.replace(path)


def _manifest(
    result: AuditResult, source_manifest: dict, kept: int, reasons: dict[str, dict]
) -> dict:
    removed_by: dict[str, int] = {}
    for flag in reasons.values():
        for check in flag["checks"]:
            removed_by[check] = removed_by.get(check, 0) + 1
    return {
        "kind": "filtered_corpus",
        "set": source_manifest.get("set"),
        "worldview": source_manifest.get("worldview"),
        "source": {
            "path": result.source,
            "hash": result.source_hash,
            "manifest": source_manifest or None,
        },
        "counts": {"input": result.records, "kept": kept, "removed": len(reasons)},
        "filters": [
            {
                "name": c.name,
                "params": c.params,
                "flagged": c.flagged,
                "removed": removed_by.get(c.name, 0),
                "seconds": c.seconds,
            }
            for c in result.checks
        ],
        "audit": {"passed_before_filter": result.passed, "gate_failures": result.gate_failures},
        "provenance": provenance(),
    }


def _card(source: Path, result: AuditResult, kept: int) -> str:
    card = source.parent / CARD_FILE
    head = (
        card.read_text(encoding="utf-8").rstrip() + "\n\n"
        if card.is_file()
        else f"# Filtered corpus from {source}\n\n"
    )
    summary = render_markdown(result).split("\n", 1)[1]  # drop the report's own title
    return (
        f"{head}## Audit summary (credo filter)\n\n{result.records} records in, {kept} kept, "
        f"{result.records - kept} removed (see rejected.jsonl). Before filtering: {verdict(result)}.\n"
        f"{summary.replace('## ', '### ')}"
    )
