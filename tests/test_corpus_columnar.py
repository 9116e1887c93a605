"""Parquet and datasets-folder corpora: same records, same audit, bad rows named by file and row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_audit_cli import CLEAN, PLANTED, _run, _write

from credo.audit.options import AuditOptions
from credo.audit.runner import audit_corpus
from credo.corpora.columnar import write_parquet
from credo.corpora.io import read_records
from credo.errors import CorpusError
from credo.hashing import file_hash
from credo.types import Record


def _records(rows: list[dict]) -> list[Record]:
    return [Record.from_json(r) for r in rows]


def test_parquet_round_trip_keeps_ids_messages_and_meta(tmp_path: Path) -> None:
    records = _records(PLANTED)
    assert write_parquet(records, tmp_path / "c" / "records.parquet", rows=3) == len(records)
    back = list(read_records(tmp_path / "c"))  # the folder finds records.parquet
    assert [r.to_json() for r in back] == [r.to_json() for r in records]


def test_audit_flags_are_the_same_from_jsonl_parquet_and_a_datasets_folder(
    tmp_path: Path, tiny_spec: Path
) -> None:
    from datasets import Dataset

    jsonl = _write(tmp_path / "jsonl", PLANTED)
    write_parquet(_records(PLANTED), tmp_path / "pq" / "records.parquet")
    rows = [{**r.to_json(), "meta": json.dumps(r.meta)} for r in _records(PLANTED)]
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))

    def flags(path: Path) -> list[tuple[str, str]]:
        result, _ = audit_corpus(
            path, options=AuditOptions(worldview=str(tiny_spec), use_embedding=False)
        )
        return sorted((f.record_id, f.check) for f in result.findings)

    expected = flags(jsonl)
    assert expected and flags(tmp_path / "pq") == expected and flags(tmp_path / "hf") == expected


def test_filter_writes_parquet_that_audits_clean(tmp_path: Path, tiny_spec: Path) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
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
                "--output-format",
                "parquet",
            ]
        )
        == 0
    )
    assert not (out / "records.jsonl").exists()
    assert [r.id for r in read_records(out)] == [r["id"] for r in CLEAN]
    assert json.loads((out / "manifest.json").read_text())["counts"]["kept"] == len(CLEAN)
    assert (
        _run(
            [
                "audit",
                str(out),
                "--worldview",
                str(tiny_spec),
                "--out",
                str(tmp_path / "a"),
                "--no-embedding",
            ]
        )
        == 0
    )


def test_unknown_output_format_is_a_config_error(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
    assert (
        _run(
            [
                "filter",
                str(corpus),
                "--out",
                str(tmp_path / "o"),
                "--output-format",
                "csv",
                "--no-embedding",
            ]
        )
        == 2
    )


def test_truncated_parquet_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "records.parquet"
    write_parquet(_records(PLANTED), path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(CorpusError, match=r"records\.parquet: not a readable Parquet file"):
        list(read_records(path))


def test_bad_parquet_row_names_file_and_row(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pair = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    rows = [
        {"id": "a", "messages": pair, "meta": "{}"},
        {"id": "b", "messages": pair, "meta": "{not json"},
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "x.parquet")
    with pytest.raises(CorpusError, match=r"x\.parquet: row 2: 'meta' is not valid JSON"):
        list(read_records(tmp_path / "x.parquet"))
    pq.write_table(
        pa.Table.from_pylist([{"id": "a", "text": "no messages"}]), tmp_path / "y.parquet"
    )
    with pytest.raises(CorpusError, match=r"y\.parquet: row 1: missing 'messages'"):
        list(read_records(tmp_path / "y.parquet"))


def test_mix_reads_a_parquet_part(tmp_path: Path) -> None:
    from credo.corpora.mix import MixOptions, mix_corpora, parse_part

    write_parquet(_records(CLEAN), tmp_path / "pq" / "records.parquet")
    mix_corpora(
        [parse_part(f"w={tmp_path / 'pq'}:1")],
        tmp_path / "mix",
        options=MixOptions(size=len(CLEAN), seed=0, fmt="tags", allow_unaudited=True),
    )
    assert sorted(r.id for r in read_records(tmp_path / "mix")) == sorted(r["id"] for r in CLEAN)
    manifest = (tmp_path / "mix" / "manifest.json").read_text()
    assert (
        file_hash(str(tmp_path / "pq" / "records.parquet")) in manifest
    )  # the part is named by its Parquet file
