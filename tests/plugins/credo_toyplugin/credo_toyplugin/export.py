"""``toy``: ``toy.txt``, one line per record: its id, a tab, the answer on one line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from credo.corpora.export_spec import ExportSpec
from credo.types import Record


def write(records: Sequence[Record], out: Path, tokenizer: str | None = None) -> dict[str, str]:
    lines = (f"{r.id}\t{' '.join(r.response.split())}\n" for r in records)
    (out / "toy.txt").write_text("".join(lines), encoding="utf-8")
    return {"records": "records.jsonl", "toy": "toy.txt"}


EXPORTS = (ExportSpec("toy", write, "id and answer, tab-separated"),)
