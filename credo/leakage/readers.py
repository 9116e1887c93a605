"""Stream reference documents from plain text, JSONL or Parquet, gzip/zstd, or folders.

Nothing is loaded whole: plain text is cut into ~1 MB documents at line breaks, JSONL is
read line by line, Parquet batch by batch. Every document carries ``(source, number)`` so
the verification pass can find it again by re-streaming the same source.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from credo.errors import CorpusError, missing_dependency

TEXT_SUFFIXES = {".txt", ".text", ".md"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
PARQUET_SUFFIXES = {".parquet"}
COMPRESSED = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
BLOCK = 1 << 20
_MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


@dataclass(frozen=True)
class Source:
    path: Path
    kind: str  # text | jsonl | parquet
    compression: str | None


@dataclass(frozen=True)
class Document:
    source: int  # index into the reference's source list
    number: int  # document number within its source
    text: bytes  # UTF-8


def classify(path: Path) -> Source | None:
    """A readable reference file, or None for a name credo does not know how to read."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSED.get(suffixes[-1]) if suffixes else None
    inner = (
        suffixes[-2] if compression and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    )
    if inner in JSONL_SUFFIXES:
        return Source(path, "jsonl", compression)
    if inner in PARQUET_SUFFIXES and not compression:
        return Source(path, "parquet", None)
    if inner in TEXT_SUFFIXES or (not compression and not suffixes):
        return Source(path, "text", compression)
    return None


def resolve_sources(paths: list[str | Path]) -> list[Source]:
    """Expand files and folders (recursively, sorted, hidden files skipped)."""
    sources: list[Source] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            classified = [
                classify(p)
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
            found = [s for s in classified if s is not None]
            if not found:
                raise CorpusError(
                    f"{path}: no reference files inside - expected .txt/.md, .jsonl or .parquet "
                    f"files, optionally .gz or .zst compressed"
                )
            sources.extend(found)
        elif path.is_file():
            source = classify(path)
            if source is None:
                raise CorpusError(
                    f"{path}: unknown reference format - use .txt/.md, .jsonl or .parquet "
                    f"(optionally .gz/.zst)"
                )
            sources.append(source)
        else:
            raise CorpusError(f"{path}: no such reference file or folder")
    if not sources:
        raise CorpusError("no reference given - pass --reference PATH (a file or folder)")
    return sources


def _open(source: Source) -> IO[bytes]:
    try:
        raw = open(source.path, "rb")  # noqa: SIM115 - returned open, the caller closes it
    except OSError as exc:
        raise CorpusError(
            f"{source.path}: cannot read ({exc.strerror}) - check the path and permissions"
        ) from exc
    if source.compression is None:
        return raw
    head = raw.read(4)
    raw.seek(0)
    if not head.startswith(_MAGIC[source.compression]):
        raw.close()
        raise CorpusError(
            f"{source.path}: not a {source.compression} file despite its suffix - rename or recompress it"
        )
    if source.compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]  # typeshed: GzipFile is not IO[bytes], though it is one
    try:
        import zstandard
    except ImportError as exc:
        raise missing_dependency("zstandard", "reading .zst references") from exc
    return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))


def _check_text(data: bytes, source: Source, where: str) -> None:
    if b"\x00" in data[:65536]:
        raise CorpusError(
            f"{source.path}{where}: binary data (NUL bytes) - a reference must be UTF-8 text"
        )
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < min(len(data), 65536) - 4:  # a character cut at the window edge is fine
            raise CorpusError(
                f"{source.path}{where}: not UTF-8 text (byte {exc.start}) - convert it to UTF-8"
            ) from exc


def _text_documents(handle: IO[bytes], source: Source, index: int) -> Iterator[Document]:
    carry, number = b"", 0
    while True:
        block = handle.read(BLOCK)
        if number == 0 and not carry:
            _check_text(block, source, "")
        data = carry + block
        if not block:
            if data.strip():
                yield Document(index, number, data)
            return
        cut = data.rfind(b"\n\n", len(data) // 2)
        cut = data.rfind(b"\n") if cut < 0 else cut
        if cut <= 0:
            carry = data
            continue
        yield Document(index, number, data[:cut])
        carry, number = data[cut:], number + 1


def _jsonl_documents(
    handle: IO[bytes], source: Source, index: int, field: str
) -> Iterator[Document]:
    for line_no, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorpusError(
                f"{source.path}:{line_no}: invalid JSON ({exc}) - one JSON object per line"
            ) from exc
        if not isinstance(row, dict) or field not in row:
            keys = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise CorpusError(
                f"{source.path}:{line_no}: text field '{field}' not found; available keys: {keys} "
                f"- pass --text-field"
            )
        text = row[field]
        if not isinstance(text, str):
            raise CorpusError(f"{source.path}:{line_no}: field '{field}' is not a string")
        yield Document(index, line_no, text.encode("utf-8"))


def _parquet_documents(source: Source, index: int, field: str) -> Iterator[Document]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise missing_dependency("pyarrow", "reading Parquet references") from exc
    try:
        parquet = pq.ParquetFile(source.path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise CorpusError(f"{source.path}: not a readable Parquet file ({exc})") from exc
    columns = parquet.schema_arrow.names
    if field not in columns:
        raise CorpusError(
            f"{source.path}: column '{field}' not found; available: {columns} - pass --text-field"
        )
    number = 0
    for batch in parquet.iter_batches(columns=[field], batch_size=4096):
        for text in batch.column(0).to_pylist():
            number += 1
            if text:
                yield Document(index, number, text.encode("utf-8"))


def iter_source(source: Source, index: int, text_field: str = "text") -> Iterator[Document]:
    """Every document of one source, in a deterministic order."""
    if source.kind == "parquet":
        yield from _parquet_documents(source, index, text_field)
        return
    with _open(source) as handle:
        try:
            if source.kind == "jsonl":
                yield from _jsonl_documents(handle, source, index, text_field)
            else:
                yield from _text_documents(handle, source, index)
        except CorpusError:
            raise
        except Exception as exc:  # gzip/zstd/OS errors on a damaged or truncated stream
            raise CorpusError(
                f"{source.path}: cannot decompress or read ({exc}) - is the file truncated?"
            ) from exc


def iter_documents(
    sources: list[Source], text_field: str = "text", first: int = 0
) -> Iterator[Document]:
    """Every document of every source; sources are numbered from ``first``."""
    for index, source in enumerate(sources, first):
        yield from iter_source(source, index, text_field)
