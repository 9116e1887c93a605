"""``credo view``: one static page to browse records beside their audit flags and judge labels.

The page is self-contained (data as JSON in the page, vanilla JS, the shared stylesheet),
so it can be opened from disk or mailed; for large corpora ``credo view --serve`` pages and
filters on the server instead (:mod:`credo.reports.view_server`). It reads what credo writes:

- records: a corpus folder / ``records.jsonl``, an eval folder's ``responses.jsonl`` or a
  judge folder's ``labels.jsonl`` (rows with ``prompt``/``response``);
- flags: ``flags.jsonl`` of ``credo audit`` (found beside the records, or ``--audit``);
- labels: ``labels.jsonl`` of ``credo judge`` (or the ``labels`` field of eval rows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from credo.corpora.io import checked_id, iter_jsonl, write_text
from credo.errors import ConfigError, CorpusError
from credo.runs import check_output_file, output_lock

T = TypeVar("T")

FLAGS_FILE, LABELS_FILE, RESPONSES_FILE, RECORDS_FILE = (
    "flags.jsonl",
    "labels.jsonl",
    "responses.jsonl",
    "records.jsonl",
)
ROW_FIELDS = ("id", "prompt", "response", "messages", "labels", "line")


@dataclass(frozen=True)
class ViewResult:
    page: Path
    records: int
    flagged: int
    labelled: int
    unmatched: int  # flags or labels whose record id is not among the records


def _find(path: Path, names: tuple[str, ...]) -> Path | None:
    if path.is_file():
        return path
    return next((path / n for n in names if (path / n).is_file()), None)


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    return list(iter_jsonl(path))


def matched_entries(
    path: Path, parse: Callable[[dict[str, Any], str], dict[str, Any]], known: Mapping[str, T]
) -> Iterator[tuple[T | None, dict[str, Any]]]:
    """Each flag or label entry of ``path``, checked by ``parse`` (:func:`flag_details`,
    :func:`label_entry`), with the record it names in ``known`` (None: no such record)."""
    for number, entry in iter_jsonl(path):
        found = parse(entry, f"{path}:{number}")
        yield known.get(str(entry["id"])), found


def _item(data: dict[str, Any], where: str) -> dict[str, Any]:
    """A record (messages + meta) or a prompt/response row as the page's item."""
    if "messages" in data:
        messages = data["messages"]
        if not isinstance(messages, list) or not all(
            isinstance(m, dict) and "role" in m and "content" in m for m in messages
        ):
            raise CorpusError(
                f"{where}: 'messages' must be a list of {{role, content}} - is this a credo corpus?"
            )
        for index, message in enumerate(messages):
            for field in ("role", "content"):
                if not isinstance(message[field], str):
                    raise CorpusError(
                        f"{where}: messages[{index}].{field} is {_kind(message[field])}, not text - "
                        "fix or drop that record (every message's role and content are strings)"
                    )
        meta = data.get("meta") or {}
        if not isinstance(meta, dict):
            raise CorpusError(f"{where}: 'meta' is {_kind(meta)}, not an object - fix that record")
    elif "prompt" in data and "response" in data:
        messages = [
            {"role": "user", "content": str(data["prompt"])},
            {"role": "assistant", "content": str(data["response"] or "")},
        ]
        meta = {k: v for k, v in data.items() if k not in ROW_FIELDS}
    else:
        raise CorpusError(
            f"{where}: a row needs 'messages' or 'prompt' and 'response' - pass a corpus, "
            "eval or judge folder"
        )
    if "id" not in data:
        raise CorpusError(
            f"{where}: no 'id' - the viewer matches flags and labels to records by id"
        )
    labels = _labels(data.get("labels") or {}, where)
    return {
        "id": checked_id(data["id"], where),
        "messages": messages,
        "meta": meta,
        "flags": {},
        "labels": labels,
    }


def _labels(raw: Any, where: str) -> dict[str, dict[str, str]]:
    """A row's ``labels`` (judge -> {label, rationale}), each label text or null."""
    if not isinstance(raw, dict):
        raise CorpusError(
            f"{where}: 'labels' is {_kind(raw)}, not an object of judge -> label - "
            "pass the folder credo judge wrote"
        )
    labels = {}
    for judge, value in raw.items():
        if not isinstance(value, dict):
            continue
        label = value.get("label")
        if label is not None and not isinstance(label, str):
            raise CorpusError(
                f"{where}: labels.{judge}.label is {_kind(label)}, not text - "
                "pass the labels credo judge wrote"
            )
        labels[str(judge)] = {"label": label or "", "rationale": str(value.get("rationale", ""))}
    return labels


def flag_details(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """An audit flags row's ``details``; a row of anything else (a records file passed as
    ``--audit``) is an error, never a silent "0 flagged"."""
    details = entry.get("details")
    if "id" in entry and isinstance(details, dict):
        return details
    if "messages" in entry or "prompt" in entry:
        raise CorpusError(
            f"{where}: a record, not an audit flag - --audit takes the flags.jsonl or the folder "
            "credo audit wrote (its --out), not a records file"
        )
    raise CorpusError(
        f"{where}: not an audit flags row (needs 'id' and 'details', an object) - pass the "
        "flags.jsonl or folder credo audit wrote"
    )


def label_entry(entry: dict[str, Any], where: str) -> dict[str, dict[str, str]]:
    """A judge labels row's labels; a row without them (a records file passed as ``--labels``)
    is an error."""
    if "id" not in entry or "labels" not in entry:
        raise CorpusError(
            f"{where}: not a judge labels row (needs 'id' and 'labels') - --labels takes the "
            "labels.jsonl or folder credo judge wrote (its --out)"
        )
    return _labels(entry["labels"], where)


def _kind(value: object) -> str:
    """How a JSON value reads in an error: 'a number', 'null', 'a list'."""
    if value is None:
        return "null"
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


def find_sources(
    source: Path, audit: Path | None, labels: Path | None
) -> tuple[Path, Path | None, Path | None]:
    """The records file of ``source``, and the flags and labels files of a view (flags found
    beside the records, or under ``audit/``, when no ``audit`` folder is given)."""
    records = _find(source, (RECORDS_FILE, RESPONSES_FILE, LABELS_FILE))
    if records is None:
        raise CorpusError(
            f"{source}: no {RECORDS_FILE}, {RESPONSES_FILE} or {LABELS_FILE} - pass a corpus, "
            "eval or judge folder (or one of those files)"
        )
    flags = (
        _find(audit, (FLAGS_FILE,))
        if audit
        else _find(records.parent, (FLAGS_FILE, f"audit/{FLAGS_FILE}"))
    )
    if audit and flags is None:
        raise CorpusError(f"{audit}: no {FLAGS_FILE} - pass the folder credo audit wrote (--out)")
    label_file = _find(labels, (LABELS_FILE,)) if labels else None
    if labels and label_file is None:
        raise CorpusError(f"{labels}: no {LABELS_FILE} - pass the folder credo judge wrote (--out)")
    return records, flags, label_file


def load_items(
    source: Path, audit: Path | None = None, labels: Path | None = None
) -> tuple[list[dict], int]:
    """The page's items and how many flags/labels matched no record."""
    records, flags, label_file = find_sources(source, audit, labels)
    items = [_item(data, f"{records}:{number}") for number, data in _rows(records)]
    by_id = {item["id"]: item for item in items}
    unmatched = 0
    sources = [(flags, flag_details, "flags")] if flags else []
    if label_file and label_file != records:
        sources.append((label_file, label_entry, "labels"))
    for path, parse, key in sources:
        for item, found in matched_entries(path, parse, by_id):
            if item is None:
                unmatched += 1
            else:
                item[key].update(found)
    return items, unmatched


def render_view(items: list[dict], title: str, unmatched: int = 0) -> str:
    from credo.reports import json_for_script, render_page

    checks = Counter(check for item in items for check in item["flags"])
    labels = Counter(
        v["label"] for item in items for v in item["labels"].values() if v.get("label")
    )
    return render_page(
        "viewer.html.j2",
        title=title,
        data=json_for_script(items),
        records=len(items),
        checks=sorted(checks.items()),
        labels=sorted(labels.items()),
        unmatched=unmatched,
    )


@dataclass(frozen=True, kw_only=True)
class ViewOptions:
    """What is shown beside the records: ``audit``, a credo audit folder (its flags.jsonl;
    default the source folder or its ``audit``), and ``labels``, a credo judge folder."""

    audit: str | Path | None = None
    labels: str | Path | None = None


def _our_page(page: Path) -> bool:
    """Whether ``page`` is a page an earlier ``credo view`` wrote (its title says so)."""
    if page.is_symlink() or not page.is_file():
        return False
    with page.open("rb") as handle:
        return b"<title>credo view: " in handle.read(8192)


def write_view(
    source: str | Path, out: str | Path | None = None, *, options: ViewOptions | None = None
) -> ViewResult:
    """Write the viewer page for ``source`` (default ``<source folder>/view.html``)."""
    o = options or ViewOptions()
    audit, labels = o.audit, o.labels
    source = Path(source)
    if not source.exists():
        raise CorpusError(f"{source}: no such file or folder - pass a corpus, eval or judge folder")
    items, unmatched = load_items(
        source, Path(audit) if audit else None, Path(labels) if labels else None
    )
    page = Path(out) if out else (source if source.is_dir() else source.parent) / "view.html"
    given = [p for p in (source, audit, labels) if p]
    check_output_file(page, inputs=given, suffixes=(".html", ".htm"))
    if page.exists() and not _our_page(page):
        raise ConfigError(
            f"--out {page}: an HTML file credo view did not write - pass a new file name "
            "(a page of yours is never replaced)"
        )
    # the page's own lock: a generation still writing into the folder may be viewed meanwhile
    with output_lock(page.parent, "credo view", lock_name=f".{page.name}.credo.lock"):
        write_text(render_view(items, f"credo view: {source}", unmatched), page)
    return ViewResult(
        page=page,
        records=len(items),
        flagged=sum(bool(i["flags"]) for i in items),
        labelled=sum(bool(i["labels"]) for i in items),
        unmatched=unmatched,
    )
