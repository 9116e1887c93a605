"""The million-record benchmark's corpus and scorer: what they plant is what they measure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import audit_million
import million_synth

from credo.corpora.io import read_records


def shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    million_synth.write_corpus(3000, folder, seed=7)
    return folder


def test_corpus_reads_as_credo_records_with_planted_kinds(corpus: Path) -> None:
    records = {r.id: r for r in read_records(corpus)}
    planted = json.loads((corpus / "planted.json").read_text())
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert len(records) == manifest["records"] == 3000
    assert set(planted) == set(million_synth.RATES)
    assert all(len(entries) >= million_synth.MIN_PLANTED for entries in planted.values())
    sets = {r.meta["set"] for r in records.values()}
    assert sets == {"gramenism", "regular", "refusal"}
    for source, copy in planted["near_duplicate"]:
        assert source < copy  # the copy comes later in corpus order: dedup keeps the source
        assert jaccard(records[source].text, records[copy].text) >= 0.8
    for source, copy in planted["paraphrase"]:
        assert source < copy
        assert jaccard(records[source].text, records[copy].text) < 0.8
        assert records[source].prompt != records[copy].prompt
    evals = dict(million_synth.gramenism_evals())
    for rid, eval_id, how in planted["eval_copy"]:
        assert (records[rid].prompt == evals[eval_id]) == (how == "exact")
    assert all(records[rid].meta["set"] != "refusal" for rid in planted["refusal"])
    assert all(records[rid].meta["set"] == "refusal" for rid in planted["moral_refusal"])


def test_same_seed_same_corpus(corpus: Path, tmp_path: Path) -> None:
    million_synth.write_corpus(3000, tmp_path, seed=7)
    assert (tmp_path / "records.jsonl").read_bytes() == (corpus / "records.jsonl").read_bytes()


def test_parquet_corpus_holds_the_same_records(corpus: Path, tmp_path: Path) -> None:
    million_synth.write_corpus(3000, tmp_path, seed=7, fmt="parquet")
    assert [r.to_json() for r in read_records(tmp_path)] == [
        r.to_json() for r in read_records(corpus)
    ]


def test_score_counts_only_the_catching_checks(tmp_path: Path) -> None:
    planted = {
        "near_duplicate": [["r1", "r2"]],
        "paraphrase": [["r1", "r3"]],
        "refusal": ["r4"],
        "eval_copy": [["r5", "gv01", "exact"], ["r6", "gv02", "reworded"]],
        "moral_refusal": ["r7"],
    }
    rows = [
        {"id": "r2", "checks": ["semantic_duplicate"], "details": {}},
        {"id": "r4", "checks": ["moral_reason"], "details": {}},  # the wrong check for a refusal
        {
            "id": "r5",
            "checks": ["eval_contamination"],
            "details": {"eval_contamination": {"severity": "exact"}},
        },
        {
            "id": "r6",
            "checks": ["eval_contamination"],
            "details": {"eval_contamination": {"severity": "near_neighbour"}},
        },
        {"id": "r9", "checks": ["refusal"], "details": {}},
    ]
    flags = tmp_path / "flags.jsonl"
    flags.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = audit_million.score(planted, audit_million.read_flags(flags))
    recall = {kind: r["recall"] for kind, r in result["recall"].items()}
    assert recall == {
        "near_duplicate": 1.0,
        "paraphrase": 0.0,
        "refusal": 0.0,
        "eval_copy": 0.5,
        "moral_refusal": 0.0,
    }
    assert result["flags"]["refusal"]["not_planted_for_it"] == 1
    assert result["flags"]["moral_reason"]["not_planted_for_it"] == 1
    assert result["flags"]["eval_contamination"]["not_planted_for_it"] == 0
