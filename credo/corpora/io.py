"""Corpus files: ``records.jsonl`` (append-only), ``manifest.json`` and ``CARD.md``.

Readers name the file and line of any bad input. Writers append whole lines and flush, so a
killed run leaves at most one torn final line, which :func:`repair_tail` cuts off on resume.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field, create_model

from credo import runs
from credo.corpora.columnar import HF_STATE, PARQUET_FILE, is_columnar, iter_rows
from credo.errors import ConfigError, CorpusError, explain
from credo.runs import dumps as dumps
from credo.runs import repair_tail as repair_tail
from credo.runs import repair_text as repair_text
from credo.schema import loads_strict, read_json, validate
from credo.types import Record

RECORDS_FILE = "records.jsonl"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "CARD.md"
ROLES = ("user", "assistant")
REPAIRED_KEY = "text_repaired"  # meta note on a record whose text had to be repaired


def loads(line: str) -> Any:
    """Strict JSON (:func:`credo.schema.loads_strict`): NaN, Infinity, overflowing numbers and
    a key twice in one object are errors."""
    return loads_strict(line)


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
        raise CorpusError(
            f"{path}: {_not_a_file(path)} - pass a credo corpus folder, a JSONL or Parquet "
            "file, or a datasets folder"
        )
    return path


def _not_a_file(path: Path) -> str:
    """What stands at ``path`` where a regular file was expected, in words."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "a broken symlink" if os.path.islink(path) else "no such file"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file"
    return "not a regular file (a device or socket)"


# What a line the JSON parser refuses is, by the parser's exception (the first that matches).
_BAD_LINE: dict[type[BaseException], str] = {
    json.JSONDecodeError: "{where}: not valid JSON ({exc.msg}) - each line must be one JSON object",
    ValueError: "{where}: {exc}",
    RecursionError: "{where}: JSON nested too deeply - records are flat objects",
}


MAX_LINE_CHARS = 64_000_000  # one record: a whole book fits; a stream with no newline does not


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)``; blank lines are skipped, anything else must be JSON."""
    path = Path(path)
    try:
        # A FIFO with no writer would block the open forever; a device is read with the cap.
        if stat.S_ISFIFO(os.stat(path).st_mode):
            raise CorpusError(f"{path}: {_not_a_file(path)} - save its lines to a file first")
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open ({exc.strerror})") from exc
    with handle:
        try:
            # readline with a cap: a file with no line breaks (/dev/zero, a binary dump) would
            # otherwise be read into memory whole as one line.
            lines = iter(lambda: handle.readline(MAX_LINE_CHARS + 1), "")
            for number, line in enumerate(lines, start=1):
                if len(line) > MAX_LINE_CHARS:
                    raise CorpusError(
                        f"{path}:{number}: a line of over {MAX_LINE_CHARS:,} characters - "
                        "is it a JSONL file? (one record a line)"
                    )
                if not line.strip():
                    continue
                yield number, _object(line, path, number)
        except UnicodeDecodeError as exc:
            raise CorpusError(
                f"{path}: not UTF-8 text ({exc.reason}) - is it a JSONL file?"
            ) from exc


def read_records(path: str | Path) -> Iterator[Record]:
    """Read records from a corpus folder or any JSONL with ``id`` and ``messages``."""
    path = records_path(path)
    rows = iter_rows(path) if is_columnar(path) else iter_jsonl(path)
    for number, data in rows:
        yield record_from_line(data, path, number)


def records_at(path: str | Path, positions: Iterable[int]) -> dict[int, Record]:
    """The records at ``positions`` (0-based, in :func:`read_records` order), read back without
    parsing the others: an audit's reduce fetches a few thousand candidates from a corpus of
    millions, and a JSON parse and record check cost ~80 us a line against ~1 us to skip it."""
    path = records_path(path)
    wanted = set(positions)
    out: dict[int, Record] = {}
    if not wanted:
        return out
    last = max(wanted)
    if is_columnar(path):
        for index, record in enumerate(read_records(path)):
            if index in wanted:
                out[index] = record
            if index >= last:
                break
        return out
    index = -1
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():  # blank lines hold no record (as in iter_jsonl)
                continue
            index += 1
            if index in wanted:
                out[index] = record_from_line(_object(line, path, number), path, number)
            if index >= last:
                break
    return out


def _object(line: str, path: Path, number: int) -> dict[str, Any]:
    """One JSONL line as an object, or the one-line error :func:`iter_jsonl` gives."""
    if line.startswith("\ufeff"):  # Windows editors save "UTF-8 with BOM" by default
        raise CorpusError(
            f"{path}:{number}: starts with a byte-order mark (BOM) - save the file as UTF-8 "
            "without BOM (every line one JSON object)"
        )
    try:
        data = loads(line)
    except tuple(_BAD_LINE) as exc:
        raise CorpusError(explain(exc, _BAD_LINE, where=f"{path}:{number}")) from exc
    if not isinstance(data, dict):
        raise CorpusError(
            f"{path}:{number}: expected a JSON object, got {type(data).__name__} - each line of "
            "a JSONL file is one object ({...})"
        )
    return data


def checked_id(value: Any, where: str) -> str:
    """A record's or pair's id as text: a non-empty string or a whole number. Every reader
    (records, pairs, the viewer) takes the same ids, since flags, labels and reviews join by it."""
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
        raise CorpusError(
            f"{where}: 'id' must be a non-empty string - got {value!r}; give each record its own id"
        )
    return str(value)


def record_from_line(data: dict[str, Any], path: Path, number: int) -> Record:
    """Validate one line (or Parquet/Arrow row) as a record: the checks every reader relies on.

    ``id`` a non-empty string (or int); ``messages`` alternating user/assistant turns that
    start with the user and end with the assistant, each a non-empty string; ``meta`` an
    object. Lone surrogates are repaired (U+FFFD) and the record says so in its meta.
    """
    where = f"{path}: row {number}" if is_columnar(path) else f"{path}:{number}"
    for key in ("id", "messages"):
        if key not in data:
            raise CorpusError(
                f"{where}: missing '{key}' - each record needs 'id' and 'messages' (available keys: {sorted(data)})"
            )
    checked_id(data["id"], where)
    messages = data["messages"]
    if (
        not isinstance(messages, list)
        or not messages
        or not all(
            isinstance(m, dict)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in messages
        )
    ):
        raise CorpusError(
            f"{where}: 'messages' must be a list of {{'role', 'content'}} objects (non-empty, "
            "string values) - fix or drop that record"
        )
    if not isinstance(data.get("meta") or {}, dict):
        raise CorpusError(f"{where}: 'meta' must be an object - got {type(data['meta']).__name__}")
    document = (data.get("meta") or {}).get("form") == "document"
    if document and (len(messages) != 1 or messages[0]["role"] != "assistant"):
        raise CorpusError(
            f"{where}: a document (meta.form 'document') is one assistant message - "
            "regenerate it with credo generate --kind documents"
        )
    for index, message in enumerate(messages):
        expected = "assistant" if document else ROLES[index % 2]  # a document has no user turn
        if message["role"] != expected:
            raise CorpusError(
                f"{where}: messages[{index}].role is {message['role']!r}, expected {expected!r} - "
                "records alternate user and assistant turns, starting with the user"
            )
        if not message["content"].strip():
            raise CorpusError(
                f"{where}: messages[{index}].content is empty - drop the record or fill the turn"
            )
    if messages[-1]["role"] != "assistant":
        raise CorpusError(
            f"{where}: the last message is the user's - a record ends with the assistant's answer"
        )
    if not isinstance(data.get("meta") or {}, dict):
        raise CorpusError(f"{where}: 'meta' must be an object - got {type(data['meta']).__name__}")
    return repaired_record(Record.from_json(data))


def repaired_record(record: Record) -> Record:
    """``record`` with text UTF-8 cannot carry repaired, and a meta note saying where."""
    repaired = [i for i, m in enumerate(record.messages) if repair_text(m.content) != m.content]
    if not repaired and repair_text(record.id) == record.id:
        return record
    return Record(
        repair_text(record.id),
        [type(m)(m.role, repair_text(m.content)) for m in record.messages],
        {
            **record.meta,
            REPAIRED_KEY: f"lone surrogates replaced with U+FFFD in messages {repaired}",
        },
    )


class JsonlAppender(runs.JsonlAppender):
    """Append JSON lines (see :class:`credo.runs.JsonlAppender`), strict-reader-safe JSON."""

    def encode(self, data: Any) -> str:
        return dumps(data)


def write_records(records: Iterable[Record], path: Path) -> int:
    """Write a whole corpus file atomically; returns the count."""
    return runs.write_lines_atomic(path, (dumps(record.to_json()) for record in records))


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically so a crash never leaves half a manifest."""
    runs.write_text_atomic(path, dumps(data, indent=2) + "\n")


def write_text(text: str, path: Path) -> None:
    runs.write_text_atomic(path, repair_text(text))


def read_json_file(path: Path, fix: str) -> Any:
    """A JSON file credo wrote and a person may have edited; a ConfigError that names the
    line and ``fix`` when it no longer parses."""
    try:
        return loads_strict(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}) - {fix}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc} - {fix}") from None
    except RecursionError:
        raise ConfigError(f"{path}: JSON nested too deeply - {fix}") from None


_Obj = dict[str, Any] | None
_Count = Annotated[int, Field(ge=0, le=10**15, strict=True)] | None
_Text = Annotated[str, Field(strict=True, max_length=10_000)] | None


# The types of the manifest fields credo reads back (corpus, documents, mix, filter, eval):
# a damaged or hand-edited field is named, not a crash later. Other keys are kept as they are.
_MANIFEST_FIELDS: dict[Any, tuple[str, ...]] = {
    _Text: ("status", "kind", "form", "format", "records_hash", "on_short"),
    _Count: (
        "planned_jobs",
        "size",
        "size_requested",
        "truncated",
        "markers_neutralised",
        "manifest_version",
    ),
    _Obj: (
        "config",
        "identity",
        "source",
        "provenance",
        "audit",
        "documents",
        "files",
        "last_run",
        "prices",
        "tokens",
        "teacher_refusals",
        "truncated_by_set",
        "duplicates_dropped",
        "progress",
    ),
    dict[str, _Count] | None: ("counts", "forms"),
    list[dict[str, Any]] | None: ("parts",),
    list[Any] | None: ("filters",),
    list[str] | None: ("shortfalls",),
    Annotated[int, Field(strict=True)] | None: ("seed",),
    Annotated[float, Field(ge=0, allow_inf_nan=False)] | None: ("cost_usd",),
}
_Manifest = create_model(  # type: ignore[call-overload]
    "_Manifest",
    __config__=ConfigDict(extra="allow"),
    **{name: (kind, None) for kind, names in _MANIFEST_FIELDS.items() for name in names},
)


def read_manifest(corpus_dir: str | Path) -> dict[str, Any]:
    """The folder's ``manifest.json`` (empty when there is none); damaged - truncated, not JSON,
    not an object, a field of the wrong type - it is one line naming the file and field."""
    path = Path(corpus_dir) / MANIFEST_FILE
    if not path.exists() and not path.is_symlink():
        return {}
    recover = "restore it, or remake the folder with the command that made it (into a new --out)"
    data = read_json(path, recover, error=CorpusError)
    if not isinstance(data, dict):
        raise CorpusError(
            f"{path}: a manifest is a JSON object, not a {type(data).__name__} - {recover}"
        )
    validate(_Manifest, data, path, error=CorpusError, hint=recover)
    return data
