"""The manifest of a generated corpus: config, hashes, counts, refusals, tokens and cost.

Counts are taken from the files on disk (``records.jsonl`` and ``teacher_refusals.jsonl``),
not from the last run's memory, so a corpus built over several resumed runs reports what
it holds. A teacher refusal is *outstanding* while its job has no record; a later run that
gets an answer for that job resolves it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo.corpora.io import MANIFEST_FILE, RECORDS_FILE, iter_jsonl, read_manifest
from credo.corpora.provenance import provenance
from credo.errors import ConfigError, CorpusError
from credo.runs import write_json_atomic

REFUSALS_FILE = "teacher_refusals.jsonl"
MANIFEST_VERSION = 1


@dataclass
class CorpusTally:
    """What a generation folder holds, read back from its files."""

    records: int = 0
    duplicates: int = 0
    ids: set[str] = field(default_factory=set)
    input_tokens: int = 0
    output_tokens: int = 0
    refusal_attempts: int = 0
    refused: dict[str, dict[str, Any]] = field(default_factory=dict)  # outstanding, by job id
    truncated: dict[str, int] = field(default_factory=dict)  # stop_reason "length", by set

    def refusal_counts(self) -> dict[str, Any]:
        metas = [entry["meta"] for entry in self.refused.values()]
        by = {
            key: dict(Counter(str(m.get(key)) for m in metas).most_common())
            for key in ("prompt_id", "template_id", "persona_id")
        }
        reasons = dict(Counter(str(e.get("reason")) for e in self.refused.values()))
        return {
            "outstanding": len(self.refused),
            "attempts": self.refusal_attempts,
            "by_reason": reasons,
            "by_prompt": by["prompt_id"],
            "by_template": by["template_id"],
            "by_persona": by["persona_id"],
        }


def tally_corpus(out: Path) -> CorpusTally:
    tally = CorpusTally()
    records = out / RECORDS_FILE
    if records.exists():
        for _, data in iter_jsonl(records):
            record_id = str(data.get("id"))
            if record_id in tally.ids:
                tally.duplicates += 1
                continue
            tally.ids.add(record_id)
            _add_usage(tally, data)
            meta = data.get("meta")
            if isinstance(meta, dict) and meta.get("stop_reason") == "length":
                set_name = str(meta.get("set") or "unknown")
                tally.truncated[set_name] = tally.truncated.get(set_name, 0) + 1
        tally.records = len(tally.ids)
    refusals = out / REFUSALS_FILE
    if refusals.exists():
        for _, entry in iter_jsonl(refusals):
            tally.refusal_attempts += 1
            _add_usage(tally, entry)
            if entry.get("id") not in tally.ids:
                tally.refused[str(entry.get("id"))] = entry
    return tally


def _add_usage(tally: CorpusTally, data: dict[str, Any]) -> None:
    meta = data.get("meta")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    if not isinstance(usage, dict):  # a hand-edited or foreign line: count no tokens for it
        return
    tally.input_tokens += _count(usage.get("input_tokens"))
    tally.output_tokens += _count(usage.get("output_tokens"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def check_resumable(out: Path, identity: dict[str, Any]) -> dict[str, Any]:
    """The existing manifest, after making sure it was made with ``identity``."""
    manifest = read_manifest(out)
    if not manifest:
        if (out / RECORDS_FILE).exists():
            raise CorpusError(
                f"{out}: holds {RECORDS_FILE} but no {MANIFEST_FILE} - not a credo "
                "generation folder; pass a new --out folder"
            )
        return {}
    if manifest.get("kind") != "generation" or not isinstance(manifest.get("identity"), dict):
        made_by = manifest.get("kind")
        raise CorpusError(
            f"{out / MANIFEST_FILE}: the manifest of "
            + (f"a credo {made_by} run" if isinstance(made_by, str) else "another tool")
            + ", not of credo generate - pass a new --out folder"
        )
    previous = manifest["identity"]
    if previous.get("form") != identity.get("form"):
        made = "documents (--kind documents)" if previous.get("form") else "Q&A (--kind qa)"
        raise ConfigError(
            f"{out}: holds {made} - rerun with that --kind to resume, or pass a new --out folder"
        )
    if previous != identity:
        diffs = [
            f"{k}: {previous.get(k)!r} -> {identity.get(k)!r}"
            for k in sorted(set(previous) | set(identity))
            if previous.get(k) != identity.get(k)
        ]
        raise ConfigError(
            f"{out}: was made with a different config ({'; '.join(diffs)}) - rerun "
            "with the original options to resume, or pass a new --out folder"
        )
    return manifest


def build_manifest(
    *,
    status: str,
    identity: dict[str, Any],
    config: dict[str, Any],
    source: dict[str, Any],
    planned: int,
    missing: int,
    tally: CorpusTally | None,
    run: dict[str, Any] | None,
    cost_usd: float | None,
    prices: dict[str, Any],
    provenance_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "kind": "generation",
        "status": status,
        "identity": identity,
        "config": config,
        "source": source,
        "planned_jobs": planned,
    }
    if tally is not None:
        manifest["counts"] = {
            "records": tally.records,
            "duplicates": tally.duplicates,
            "teacher_refusals": len(tally.refused),
            "missing": missing,
            "truncated": sum(tally.truncated.values()),
        }
        manifest["truncated_by_set"] = dict(sorted(tally.truncated.items()))
        manifest["teacher_refusals"] = tally.refusal_counts()
        manifest["tokens"] = {"input": tally.input_tokens, "output": tally.output_tokens}
        manifest["cost_usd"] = cost_usd
    manifest["prices"] = prices
    manifest["last_run"] = run
    manifest["files"] = {"records": RECORDS_FILE, "teacher_refusals": REFUSALS_FILE}
    manifest["provenance"] = provenance_info or provenance()
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically, every credential in it replaced by ``***``."""
    write_json_atomic(out / MANIFEST_FILE, manifest)
