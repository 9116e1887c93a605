"""The answers shown beside a failing gate's worst examples are read back by id."""

from __future__ import annotations

import json
from pathlib import Path

from credo.audit.examples import answers_of


def _write(path: Path, n: int) -> Path:
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": f"answer {i} " + "x" * (300 if i == 7 else 0)},
                ],
                "id": f"r{i}",  # not first: the scan finds the id anywhere on the line
                "meta": {"note": "r3" if i == 1 else ""},  # r1 names r3 in its meta
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_answers_by_id_shortened_and_never_from_a_line_that_only_mentions_the_id(
    tmp_path: Path,
) -> None:
    source = _write(tmp_path / "records.jsonl", 10)
    found = answers_of(source, {"r3", "r7", "nope"})
    assert set(found) == {"r3", "r7"}  # r1's meta names r3; r1's answer is not r3's
    assert found["r3"].strip() == "answer 3"
    assert len(found["r7"]) == 240 and found["r7"].endswith("…")


def test_a_missing_or_damaged_source_costs_the_column_not_the_report(tmp_path: Path) -> None:
    assert answers_of(tmp_path / "gone.jsonl", {"r1"}) == {}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "r1", "messages": [\n')
    assert answers_of(bad, {"r1"}) == {}
