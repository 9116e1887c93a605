"""Corpora in Parquet and Hugging Face ``datasets`` folders, read in batches.

A Parquet corpus has the JSONL record's columns: ``id`` (string), ``messages`` (a list of
``{role, content}`` structs) and ``meta`` (a JSON string, since metadata differs from record
to record; a struct column is accepted too). A ``datasets`` folder (``save_to_disk``) is read
through its Arrow files. Both are read one record batch at a time, and a bad row is named by
file and row number (1-based, like JSONL lines).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from credo.errors import CorpusError
from credo.runs import atomic_path
from credo.types import Record

PARQUET_FILE = "records.parquet"
HF_STATE = "state.json"  # what datasets' save_to_disk writes beside its Arrow files
BATCH_ROWS = 8192


def is_columnar(path: Path) -> bool:
    return path.suffix == ".parquet" or path.name == HF_STATE


def _arrow_batches(path: Path, rows: int) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.name == HF_STATE:
        try:
            files = [
                path.parent / f["filename"]
                for f in json.loads(path.read_text(encoding="utf-8"))["_data_files"]
            ]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(
                f"{path}: not a datasets state file ({exc}) - pass a folder written by Dataset.save_to_disk"
            ) from exc
        for file in files:
            try:
                with pa.memory_map(str(file)) as source:
                    yield from pa.ipc.open_stream(source)
            except (OSError, pa.ArrowInvalid) as exc:
                raise CorpusError(
                    f"{file}: cannot read this Arrow file ({exc}) - re-save the dataset"
                ) from exc
        return
    try:
        parquet = pq.ParquetFile(str(path))
    except (OSError, pa.ArrowInvalid) as exc:
        raise CorpusError(
            f"{path}: not a readable Parquet file ({exc}) - re-export the corpus"
        ) from exc
    first = 1
    for group in range(parquet.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        try:
            yield from parquet.iter_batches(batch_size=rows, row_groups=[group])
        except (OSError, pa.ArrowInvalid) as exc:
            raise CorpusError(
                f"{path}: rows {first}-{first + size - 1} (row group {group}) are unreadable ({exc}) - "
                "re-export the corpus"
            ) from exc
        first += size


def iter_rows(path: Path, rows: int = BATCH_ROWS) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, record dict)`` from a Parquet file or a datasets folder's state file."""
    number = 0
    for batch in _arrow_batches(path, rows):
        for data in batch.to_pylist():
            number += 1
            yield number, with_meta(data, path, number)


def with_meta(data: dict[str, Any], path: Path, number: int) -> dict[str, Any]:
    """A Parquet/Arrow row with its ``meta`` column (a JSON string) read back as an object."""
    meta = data.get("meta")
    if isinstance(meta, str):
        try:
            data["meta"] = json.loads(meta) if meta else {}
        except json.JSONDecodeError as exc:
            raise CorpusError(
                f"{path}: row {number}: 'meta' is not valid JSON ({exc.msg})"
            ) from exc
    return data


def write_parquet(records: Iterable[Record], path: Path, rows: int = BATCH_ROWS) -> int:
    """Write a corpus as Parquet atomically (tmp + rename), one row group per ``rows`` records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("id", pa.string()),
            ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("meta", pa.string()),
        ]
    )
    count = 0
    with atomic_path(path) as tmp, pq.ParquetWriter(str(tmp), schema) as writer:
        batch: list[dict[str, Any]] = []
        for record in records:
            data = record.to_json()
            batch.append(
                {
                    "id": data["id"],
                    "messages": data["messages"],
                    "meta": json.dumps(data.get("meta") or {}, ensure_ascii=False),
                }
            )
            if len(batch) == rows:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                count, batch = count + len(batch), []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema))
            count += len(batch)
    return count
