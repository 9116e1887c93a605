"""``credo filter``: clean records, rejected records with reasons, manifest and card."""

from __future__ import annotations

import json
from pathlib import Path

from test_audit_cli import CLEAN, PLANTED, _run, _write

from credo.audit import filter_corpus
from credo.audit.options import FilterOptions
from credo.hashing import file_hash


def test_filter_keeps_clean_records_and_explains_every_removal(
    tmp_path: Path, tiny_spec: Path
) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
    (corpus / "CARD.md").write_text("# Tiny corpus\n\nMade for a test.\n")
    source_hash = file_hash(str(corpus / "records.jsonl"))
    out = tmp_path / "clean"
    assert (
        _run(
            [
                "filter",
                str(corpus),
                "--worldview",
                str(tiny_spec),
                "--out",
                str(out),
                "--no-embedding",
            ]
        )
        == 0
    )
    kept = [json.loads(line)["id"] for line in (out / "records.jsonl").read_text().splitlines()]
    assert kept == [r["id"] for r in CLEAN]
    rejected = {
        r["id"]: r for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())
    }
    assert set(rejected) == {"bad_refusal", "dup", "leak", "moral"}
    assert rejected["dup"]["duplicate_of"] == {"near_duplicate": "a1"}
    # A refusal in a worldview set is also out of the worldview's voice.
    assert rejected["bad_refusal"]["reason"] == ["refusal", "fidelity"]
    assert rejected["bad_refusal"]["messages"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"]["hash"] == source_hash and manifest["set"] == "tiny"
    assert manifest["counts"] == {"input": 8, "kept": 4, "removed": 4}
    filters = {f["name"]: f for f in manifest["filters"]}
    assert (
        filters["near_duplicate"]["removed"] == 1
        and "5ng_128p_16b_t0.8" in filters["near_duplicate"]["params"]["config"]
    )
    card = (out / "CARD.md").read_text()
    assert card.startswith("---\n")  # the card's YAML header (see test_local_card.py)
    assert "# Tiny corpus\n\nMade for a test." in card  # the source's own card, kept
    assert "<summary>The source corpus' own card (before `credo filter`)</summary>" in card
    assert "**Filtered** with `credo filter`: 8 records in, 4 kept, 4 removed" in card
    assert "Audit of the source corpus, before `credo filter` removed" in card
    assert (out / "audit" / "report.html").is_file()
    assert file_hash(str(corpus / "records.jsonl")) == source_hash


def test_filter_with_chosen_checks_only_drops_those(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
    result = filter_corpus(
        corpus,
        tmp_path / "out",
        options=FilterOptions(checks=["near_duplicate"], use_embedding=False),
    )
    assert [c.name for c in result.checks] == ["near_duplicate"]
    rejected = (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()
    assert [json.loads(r)["id"] for r in rejected] == ["dup"]


def test_filtered_corpus_audits_clean(tmp_path: Path, tiny_spec: Path) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
    filter_corpus(
        corpus,
        tmp_path / "clean",
        options=FilterOptions(worldview=str(tiny_spec), use_embedding=False),
    )
    assert (
        _run(
            [
                "audit",
                str(tmp_path / "clean"),
                "--worldview",
                str(tiny_spec),
                "--out",
                str(tmp_path / "a"),
                "--no-embedding",
            ]
        )
        == 0
    )
