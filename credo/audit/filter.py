"""``credo filter``: write a clean corpus, the rejected records with reasons, a manifest and card.

The filter runs the same checks as the audit and drops every record with a finding of a
chosen check that the registry marks ``drops``. Diagnostics (diversity) never drop anything. The source is only read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from credo.audit.findings import Dropped, FindingStore
from credo.audit.options import FilterOptions
from credo.audit.reports import write_reports
from credo.audit.result import AuditResult
from credo.audit.runner import audit_corpus
from credo.corpora.card import current_card, write_local_card
from credo.corpora.columnar import PARQUET_FILE, write_parquet
from credo.corpora.datacard import scrub_paths
from credo.corpora.io import (
    CARD_FILE,
    MANIFEST_FILE,
    RECORDS_FILE,
    dumps,
    read_manifest,
    records_path,
    write_records,
)
from credo.corpora.outdir import claim_output
from credo.corpora.provenance import provenance
from credo.errors import ConfigError
from credo.filters.registry import check_spec
from credo.hashing import file_hash
from credo.runs import write_json_atomic, write_lines_atomic

REJECTED_FILE = "rejected.jsonl"
OUTPUT_FORMATS = ("jsonl", "parquet")


def filter_corpus(
    path: str | Path,
    out: str | Path,
    *,
    options: FilterOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Drop flagged records; write records.jsonl (or records.parquet), rejected.jsonl,
    manifest.json, CARD.md and audit/. ``progress`` gets the audit's progress lines."""
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
    with claim_output(
        out, inputs=[source], overwrite=options.overwrite, owns=(CARD_FILE,), command="credo filter"
    ):
        return _filter(source, out, path=path, options=options, progress=progress)


def _filter(
    source: Path,
    out: Path,
    *,
    path: str | Path,
    options: FilterOptions,
    progress: Callable[[str], None] | None,
) -> AuditResult:
    result, records = audit_corpus(path, options=options, progress=progress)
    dropped = _dropped(result)  # looked up in the findings on disk, never all held
    kept = (
        r for r in records if r.id not in dropped
    )  # one pass; a streamed audit re-reads the file
    out.mkdir(parents=True, exist_ok=True)
    if options.output_format == "parquet":
        n_kept = write_parquet(kept, out / PARQUET_FILE)
    else:
        n_kept = write_records(kept, out / RECORDS_FILE)
    _write_rejected(records, dropped, out / REJECTED_FILE)
    write_reports(result, out / "audit")
    source_manifest = (
        read_manifest(source.parent) if (source.parent / MANIFEST_FILE).is_file() else {}
    )
    manifest = _manifest(result, source_manifest, n_kept, dropped)
    manifest["audit"].update(_after_filter(result, dropped, records_path(out)))
    write_json_atomic(out / MANIFEST_FILE, manifest)  # a source's old credential stays out
    write_local_card(out)  # the same card as the Hub's, with the source's own card kept in it
    return result


def _after_filter(result: AuditResult, dropped: Dropped, kept_file: Path) -> dict[str, Any]:
    """The filtered corpus' own certificate (see credo.corpora.certificate): the hash of the
    records kept, and the gates their remaining blocking findings still fail (a check that
    never drops, such as fidelity, can leave some)."""
    left = dropped.left({c.name for c in result.checks if c.gate})
    return {
        "records_hash": file_hash(str(kept_file)),
        "passed_after_filter": not left,
        "gate_failures_after_filter": left,
    }


def dropped_ids(result: AuditResult) -> Collection[str]:
    """Records the filter removes: flagged by a check registered to drop (diagnostics only
    report). From an audit, looked up in its findings on disk."""
    if isinstance(result.findings, FindingStore):
        return _dropped(result)
    drops = {name: check_spec(name).drops for name in {f.check for f in result.findings}}
    return {f.record_id for f in result.findings if drops[f.check]}


def _dropped(result: AuditResult) -> Dropped:
    store = FindingStore.of(result.findings)
    return store.drop({name for name in store.checks() if check_spec(name).drops})


def _write_rejected(records, dropped: Dropped, path: Path) -> None:
    def rows() -> Iterator[str]:
        for record in records:
            if record.id not in dropped:
                continue
            flag = dropped.flag(record.id)
            kept_as = {
                c: d["kept"]
                for c, d in flag["details"].items()
                if isinstance(d, dict) and "kept" in d
            }
            yield dumps(
                {
                    **record.to_json(),
                    "reason": flag["checks"],
                    "duplicate_of": kept_as or None,
                    "details": flag["details"],
                }
            )

    write_lines_atomic(path, rows())


def _manifest(result: AuditResult, source_manifest: dict, kept: int, dropped: Dropped) -> dict:
    removed_by = dropped.by_check()
    return {
        "kind": "filtered_corpus",
        "set": source_manifest.get("set"),
        "worldview": source_manifest.get("worldview"),
        "source": {
            "path": result.source,
            "hash": result.source_hash,
            "manifest": source_manifest or None,
            "card": _source_card(Path(result.source)),
        },
        "counts": {"input": result.records, "kept": kept, "removed": len(dropped)},
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


def _source_card(source: Path) -> str:
    """The source folder's own card (a user's, or credo's as of its current records), its
    paths scrubbed, for the new card."""
    return scrub_paths(current_card(source), [source.parent])
