"""An export format's declaration: its name, what it writes, and what a provider will reject.

Each ``credo/corpora/<name>_export.py`` ends with ``EXPORTS = (ExportSpec(...),)``;
:mod:`credo.corpora.export` collects them and the ``credo.exports`` entry points of installed
plugins. ``credo mix --format`` and ``credo export --format`` read the declarations, so a new
format is its one module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.runs import write_lines_atomic
from credo.types import Record

# write(records, out, tokenizer=...) -> {role: path relative to out} of every file written
ExportWriter = Callable[..., dict[str, str]]


@dataclass(frozen=True)
class ExportSpec:
    """``write(records, out, tokenizer=None)`` writes the format's files into ``out`` and
    returns ``{role: relative path}`` for the manifest. ``warnings(count)`` says what a
    provider will reject about that many records (empty when fine)."""

    name: str
    write: ExportWriter
    summary: str = ""
    needs_tokenizer: bool = False
    warnings: Callable[[int], list[str]] | None = None


def write_lines(rows: Iterable[dict[str, Any]], path: Path) -> None:
    """JSON lines, written to a temporary file and moved into place (never half a file)."""
    write_lines_atomic(path, (json.dumps(row, ensure_ascii=False) for row in rows))


def jsonl_export(
    name: str, file: str, row: Callable[[Record], dict[str, Any]], summary: str = ""
) -> ExportSpec:
    """A format that is one JSONL file with one row per record (the usual case)."""

    def write(records: Sequence[Record], out: Path, tokenizer: str | None = None) -> dict[str, str]:
        write_lines((row(r) for r in records), out / file)
        return {"records": "records.jsonl", name: file}

    return ExportSpec(name, write, summary)
