"""An audit's reduce reads candidates back by position without parsing the other lines: the
records are the ones a full read gives at those positions, blank lines included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.corpora.io import read_records, records_at
from credo.errors import CorpusError


def _corpus(tmp_path: Path) -> Path:
    lines = []
    for i in range(50):
        record = {
            "id": f"r{i}",
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ],
            "meta": {},
        }
        lines.append(json.dumps(record))
        if i % 7 == 3:
            lines.append("   ")  # blank lines hold no record
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_positions_match_a_full_read(tmp_path: Path) -> None:
    path = _corpus(tmp_path)
    every = list(read_records(path))
    wanted = {0, 3, 4, 17, 49}
    got = records_at(path, wanted)
    assert got == {i: every[i] for i in wanted}
    assert records_at(path, []) == {}
    assert records_at(path, [60]) == {}  # past the end: nothing, no error


def test_a_bad_wanted_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = {
        "id": "a",
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
    }
    path.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    assert set(records_at(path, [0])) == {0}  # the bad line is never parsed
    with pytest.raises(CorpusError, match=r"records.jsonl:2: not valid JSON"):
        records_at(path, [1])
