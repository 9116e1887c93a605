"""Corpus files: ``records.jsonl`` (append-only), ``manifest.json`` and ``CARD.md``.

Readers name the file and line of any bad input. Writers append whole lines and flush, so a
killed run leaves at most one torn final line, which :func:`repair_tail` cuts off on resume.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from credo.corpora.columnar import HF_STATE, PARQUET_FILE, is_columnar, iter_rows
from credo.errors import CorpusError
from credo.types import Record

RECORDS_FILE = "records.jsonl"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "CARD.md"


def records_path(path: str | Path) -> Path:
    """A corpus folder, JSONL or Parquet file, or datasets folder to the file to read.

    A folder holds ``records.jsonl`` or ``records.parquet``; a ``datasets`` folder is named
    by its ``state.json`` (its hash identifies the Arrow data it lists).
    """
    path = Path(path)
    if path.is_dir():
        for name in (RECORDS_FILE, PARQUET_FILE, HF_STATE):
            if (path / name).is_file():
                return path / name
        path = path / RECORDS_FILE
    if not path.is_file():
        raise CorpusError(f"{path}: no such file - pass a credo corpus folder, a JSONL or Parquet file, "
                          "or a datasets folder")
    return path


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)``; blank lines are skipped, anything else must be JSON."""
    path = Path(path)
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open ({exc.strerror})") from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(f"{path}:{number}: not valid JSON ({exc.msg}) - each line must be one JSON object") from exc
                if not isinstance(data, dict):
                    raise CorpusError(f"{path}:{number}: expected a JSON object, got {type(data).__name__}")
                yield number, data
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path}: not UTF-8 text ({exc.reason}) - is it a JSONL file?") from exc


def read_records(path: str | Path) -> Iterator[Record]:
    """Read records from a corpus folder or any JSONL with ``id`` and ``messages``."""
    path = records_path(path)
    rows = iter_rows(path) if is_columnar(path) else iter_jsonl(path)
    for number, data in rows:
        yield record_from_line(data, path, number)


def record_from_line(data: dict[str, Any], path: Path, number: int) -> Record:
    """``number`` is a JSONL line or a Parquet/Arrow row; errors say which."""
    where = f"{path}: row {number}" if is_columnar(path) else f"{path}:{number}"
    for key in ("id", "messages"):
        if key not in data:
            raise CorpusError(f"{where}: missing '{key}' - each record needs 'id' and 'messages' (available keys: {sorted(data)})")
    messages = data["messages"]
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in messages
    ):
        raise CorpusError(f"{where}: 'messages' must be a list of {{'role', 'content'}} objects")
    return Record.from_json(data)


def repair_tail(path: Path) -> int:
    """Cut a torn final line left by a killed writer; returns the bytes removed."""
    if not path.exists():
        return 0
    with path.open("rb+") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return 0
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            return 0
        # Walk back to the last newline (records are small; read in blocks).
        position = size
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            block = handle.read(step)
            cut = block.rfind(b"\n")
            if cut >= 0:
                keep = position - step + cut + 1
                handle.truncate(keep)
                return size - keep
            position -= step
        handle.truncate(0)
        return size


class JsonlAppender:
    """Append JSON lines, one write and flush per line (crash-safe with repair_tail)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(path)
        self.path = path
        self._handle = path.open("a", encoding="utf-8")

    def write(self, data: dict[str, Any]) -> None:
        self._handle.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_records(records: Iterable[Record], path: Path) -> int:
    """Write a whole corpus file atomically (tmp + rename); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically so a crash never leaves half a manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_manifest(corpus_dir: str | Path) -> dict[str, Any]:
    path = Path(corpus_dir) / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}:{exc.lineno}: manifest is not valid JSON ({exc.msg})") from exc
