"""Corpus IO: line-numbered errors, torn-tail repair, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.corpora import JsonlAppender, read_records, repair_tail, write_records
from credo.errors import CorpusError
from credo.types import Message, Record


def make(i: int) -> Record:
    return Record(
        id=f"r{i}",
        messages=[Message("user", f"q{i}"), Message("assistant", f"a{i}")],
        meta={"i": i},
    )


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    assert write_records((make(i) for i in range(3)), path) == 3
    back = list(read_records(tmp_path))
    assert [r.to_json() for r in back] == [make(i).to_json() for i in range(3)]
    assert back[0].prompt == "q0" and back[0].response == "a0"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("not json", r"records.jsonl:2: not valid JSON"),
        ('{"id": "x"}', r"records.jsonl:2: missing 'messages'"),
        ('{"id": "x", "messages": "hi"}', r"records.jsonl:2: 'messages' must be a list"),
        ("[1, 2]", r"records.jsonl:2: expected a JSON object"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps(make(0).to_json()) + "\n" + line + "\n")
    with pytest.raises(CorpusError, match=expected):
        list(read_records(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no such file"):
        list(read_records(tmp_path / "nope.jsonl"))


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CorpusError, match="not UTF-8"):
        list(read_records(path))


def test_torn_tail_is_cut_and_appending_resumes(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    with JsonlAppender(path) as out:
        out.write(make(0).to_json())
        out.write(make(1).to_json())
    with path.open("a") as handle:
        handle.write('{"id": "r2", "messa')  # a writer killed mid-line
    with JsonlAppender(path) as out:
        out.write(make(3).to_json())
    assert [r.id for r in read_records(path)] == ["r0", "r1", "r3"]
    assert repair_tail(path) == 0
