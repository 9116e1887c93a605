"""The streamed audit: every check gives the same findings and sections batch by batch as in one batch."""

from __future__ import annotations

import json
from pathlib import Path

from credo.audit.runner import audit_records, audit_stream, build_checks, build_context
from credo.corpora.io import read_records
from tests.test_audit_cli import PLANTED, _record, _run, _write
from tests.test_audit_cli import eval_file as _eval_fixture

# Enough records for several batches and a few duplicate clusters that cross batch borders.
EXTRA = [
    _record(
        f"x{i}",
        f"What does the Pebblehold teach about stone number {i}?",
        f"Stone {i} is counted at dusk with the others, and each count ends with thanks {i % 7}.",
    )
    for i in range(40)
]
COPIES = [
    _record(
        f"copy{i}",
        f"What does the Pebblehold teach about stone number {i}?",
        f"Stone {i} is counted at dusk with the others, and each count ends with thanks {i % 7}.",
    )
    for i in (1, 17, 33)
]
CORPUS = PLANTED + EXTRA + COPIES
eval_file = _eval_fixture  # the CLI tests' eval requests (one copied into the corpus)


def test_streamed_audit_matches_the_whole_corpus_audit(
    tmp_path: Path, tiny_spec: Path, eval_file: Path
) -> None:
    corpus = _write(tmp_path / "corpus", CORPUS)
    checks = build_checks(None, use_embedding=False)  # every check, lexical stages
    whole_ctx = build_context(corpus, eval_file, worldview=str(tiny_spec))
    records = list(read_records(corpus))
    runs, findings = audit_records(records, whole_ctx, checks, batch=len(records))  # one batch
    ctx = build_context(corpus, eval_file, worldview=str(tiny_spec))
    s_runs, s_findings, read, sets = audit_stream(
        corpus / "records.jsonl", ctx, checks, batch=5
    )  # 12 batches
    assert (
        s_findings == findings
        and read.ids == [r.id for r in records]
        and sum(sets.values()) == len(CORPUS)
    )
    assert [(r.name, r.flagged, r.blocking) for r in s_runs] == [
        (r.name, r.flagged, r.blocking) for r in runs
    ]
    assert ctx.sections == whole_ctx.sections
    assert {f.record_id for f in findings if f.check == "near_duplicate"} >= {
        "dup",
        "copy1",
        "copy17",
        "copy33",
    }
    assert {f.record_id for f in findings if f.check == "eval_contamination"} >= {"leak"}
    assert read.fetch([3, 0, 50]) == {0: records[0], 3: records[3], 50: records[50]}
    pooled_ctx = build_context(corpus, eval_file, worldview=str(tiny_spec))
    _p_runs, p_findings, _, _ = audit_stream(
        corpus / "records.jsonl", pooled_ctx, checks, batch=5, workers=2
    )
    assert (
        p_findings == findings and pooled_ctx.sections == whole_ctx.sections
    )  # two processes, same audit


def test_streamed_filter_rereads_the_corpus_for_the_kept_records(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus", CORPUS)
    assert (
        _run(
            [
                "filter",
                str(corpus),
                "--out",
                str(tmp_path / "clean"),
                "--checks",
                "refusal,near_duplicate",
                "--no-embedding",
            ]
        )
        == 0
    )
    kept = [
        json.loads(line)["id"]
        for line in (tmp_path / "clean" / "records.jsonl").read_text().splitlines()
    ]
    rejected = [
        json.loads(line)["id"]
        for line in (tmp_path / "clean" / "rejected.jsonl").read_text().splitlines()
    ]
    assert kept + rejected != [] and sorted(kept + rejected) == sorted(r["id"] for r in CORPUS)
    assert {"bad_refusal", "dup", "copy1"} <= set(rejected) and "a1" in kept
    manifest = json.loads((tmp_path / "clean" / "manifest.json").read_text())
    assert manifest["counts"] == {"input": len(CORPUS), "kept": len(kept), "removed": len(rejected)}
