"""The answers of a few records, by id, for the reports' worst examples of a failing gate.

The audit keeps findings, not texts; the lead of a report shows a handful of records, so
their answers are read back from the source once, when the reports are written. A JSONL
source is scanned as bytes and parsed only on the lines that name a wanted id, stopping
when every one is found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from credo.corpora.io import read_records
from credo.errors import CredoError

WIDTH = 240  # characters of an answer shown in a table cell


def answers_of(source: str | Path, ids: set[str], width: int = WIDTH) -> dict[str, str]:
    """``{id: the record's last message, shortened to width}`` for the ``ids`` found in
    ``source``; {} when the source is gone (a report rebuilt elsewhere shows ids only)."""
    path = Path(source)
    if not ids or not path.is_file():
        return {}
    found: dict[str, str] = {}
    try:
        for rid, text in _texts(path, ids):
            found[rid] = text if len(text) <= width else text[: width - 1].rstrip() + "…"
            if len(found) == len(ids):
                break
    except (CredoError, OSError, ValueError):
        return found  # an unreadable source costs the column, never the report
    return found


def _texts(path: Path, ids: set[str]) -> Iterator[tuple[str, str]]:
    if path.suffix != ".jsonl":
        for record in read_records(path):
            if record.id in ids and record.messages:
                yield record.id, record.messages[-1].content
        return
    wanted = re.compile(b"|".join(re.escape(json.dumps(i).encode()) for i in sorted(ids)))
    with path.open("rb") as handle:
        for line in handle:
            if not wanted.search(line):
                continue
            data = json.loads(line)
            rid = data.get("id") if isinstance(data, dict) else None
            messages = data.get("messages") or [] if isinstance(data, dict) else []
            if rid in ids and messages:
                yield rid, str(messages[-1].get("content", ""))
