"""An SQLite index over a folder's records, flags and labels, so ``credo view --serve`` pages and
filters a million records server-side instead of embedding them all in one page.

The index is built once per version of the inputs into ``$CREDO_HOME/view-index/`` (a cache:
the user's folder is never written), keyed by the records file's resolved path, and rebuilt
when the records, flags or labels file changes (size or mtime). Tables:

- ``records(rowid, id, preview, item)``: the viewer's item as JSON (messages, meta, labels);
- ``flags(rowid, name, details)`` and ``labels(rowid, judge, label)``: indexed by name/label;
- ``search``: a contentless FTS5 table over id and message text (word-prefix search).

Building streams the files in batches (memory stays flat); a query touches only the indexes
and the page it returns.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.io import iter_jsonl
from credo.errors import ConfigError, CorpusError
from credo.hashing import content_hash
from credo.paths import credo_home
from credo.runs import atomic_path, remove_stale_temps

INDEX_VERSION = 1
PAGE_MAX = 500  # rows one request may ask for
COUNT_CAP = 1_000  # a search or combined filter counts this far, then says "more"
PREFIX_TERMS = 32  # a word beginning stands for at most this many indexed words
_BATCH = 5000
_WORD = re.compile(r"[^\W_]+")  # as FTS5's unicode61 splits: "_" separates words
_SCHEMA = """
CREATE TABLE info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, preview TEXT NOT NULL,
                     item TEXT NOT NULL);
CREATE TABLE flags(rowid INTEGER NOT NULL, name TEXT NOT NULL, details TEXT NOT NULL);
CREATE TABLE labels(rowid INTEGER NOT NULL, judge TEXT NOT NULL, label TEXT NOT NULL);
CREATE VIRTUAL TABLE search USING fts5(body, content='', detail=none);
"""
_INDEXES = """
CREATE INDEX flags_by_name ON flags(name, rowid);
CREATE INDEX flags_by_row ON flags(rowid);
CREATE INDEX labels_by_label ON labels(label, rowid);
CREATE INDEX labels_by_row ON labels(rowid);
"""


@dataclass(frozen=True)
class Sources:
    """The files one view reads: records, and optionally flags and labels."""

    records: Path
    flags: Path | None = None
    labels: Path | None = None

    def signature(self) -> str:
        parts: list[Any] = [INDEX_VERSION]
        for path in (self.records, self.flags, self.labels):
            if path is None:
                parts.append(None)
                continue
            stat = path.stat()
            parts.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
        return content_hash(parts)


@dataclass(frozen=True)
class Query:
    """One page of the list: filters as in the static page's URL (``check='-'``: no flag)."""

    check: str = ""
    label: str = ""
    q: str = ""
    offset: int = 0
    limit: int = 100
    after: int = 0  # only records past this position (``seq``): O(page) paging at any depth

    def __post_init__(self) -> None:
        if not 0 <= self.offset <= 10**9 or not 1 <= self.limit <= PAGE_MAX:
            raise ConfigError(
                f"offset {self.offset} / limit {self.limit}: offset >= 0, limit 1..{PAGE_MAX}"
            )
        if not 0 <= self.after <= 2**62:
            raise ConfigError(f"after {self.after}: a record position, >= 0")


def index_path(sources: Sources) -> Path:
    return (
        credo_home() / "view-index" / f"{content_hash(str(sources.records.resolve()))[:24]}.sqlite"
    )


def open_index(sources: Sources) -> ViewIndex:
    """The index for ``sources``, built (or rebuilt, when an input changed) on first use."""
    path = index_path(sources)
    signature = sources.signature()
    if path.is_file():
        try:
            index = ViewIndex(path)
            if index.info.get("signature") == signature:
                return index
            index.close()
        except sqlite3.DatabaseError:
            pass  # a damaged cache file is rebuilt, never trusted
    build_index(sources, path, signature)
    return ViewIndex(path)


def build_index(sources: Sources, path: Path, signature: str) -> None:
    """Write the index to a temporary file and move it into place (a crash leaves no half index)."""
    remove_stale_temps(path.parent, names=[path.name])  # a killed build's half index
    with atomic_path(path) as tmp:
        db = sqlite3.connect(tmp)
        try:
            _fill(db, sources, signature)
        finally:
            db.close()


def _fill(db: sqlite3.Connection, sources: Sources, signature: str) -> None:
    from credo.reports.viewer import _item

    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
    rowids: dict[str, int] = {}
    batch: list[tuple[int, str, str, str, str]] = []
    labels: list[tuple[int, str, str]] = []
    for number, data in iter_jsonl(sources.records):
        item = _item(data, f"{sources.records}:{number}")
        if item["id"] in rowids:
            raise CorpusError(
                f"{sources.records}:{number}: id '{item['id']}' repeats an earlier record - "
                "ids are unique in a corpus; drop the duplicate"
            )
        rowid = rowids[item["id"]] = len(rowids) + 1
        del item["flags"]
        body = item["id"] + " " + " ".join(m["content"] for m in item["messages"])
        batch.append(
            (rowid, item["id"], _preview(item), json.dumps(item, ensure_ascii=False), body)
        )
        labels.extend((rowid, j, v["label"]) for j, v in item["labels"].items() if v["label"])
        if len(batch) >= _BATCH:
            _flush(db, batch, labels)
    _flush(db, batch, labels)
    unmatched = _add_flags(db, sources.flags, rowids) if sources.flags else 0
    if sources.labels and sources.labels != sources.records:
        unmatched += _add_labels(db, sources.labels, rowids)
    db.executescript(_INDEXES)
    info = {
        "signature": signature,
        "source": str(sources.records),
        "records": str(len(rowids)),
        "unmatched": str(unmatched),
    }
    db.executemany("INSERT INTO info VALUES (?, ?)", info.items())
    db.commit()


def _preview(item: dict[str, Any]) -> str:
    prompt = next((m["content"] for m in item["messages"] if m["role"] == "user"), "")
    return str(prompt)[:160]


def _flush(
    db: sqlite3.Connection,
    batch: list[tuple[int, str, str, str, str]],
    labels: list[tuple[int, str, str]],
) -> None:
    db.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", (row[:4] for row in batch))
    db.executemany("INSERT INTO search(rowid, body) VALUES (?, ?)", ((r[0], r[4]) for r in batch))
    db.executemany("INSERT INTO labels VALUES (?, ?, ?)", labels)
    batch.clear()
    labels.clear()


def _add_flags(db: sqlite3.Connection, flags: Path, rowids: dict[str, int]) -> int:
    from credo.reports.viewer import flag_details, matched_entries

    unmatched, rows = 0, list[tuple[int, str, str]]()
    for rowid, details in matched_entries(flags, flag_details, rowids):
        if rowid is None:
            unmatched += 1
            continue
        rows.extend(
            (rowid, str(name), json.dumps(d, ensure_ascii=False)) for name, d in details.items()
        )
        if len(rows) >= _BATCH:
            db.executemany("INSERT INTO flags VALUES (?, ?, ?)", rows)
            rows.clear()
    db.executemany("INSERT INTO flags VALUES (?, ?, ?)", rows)
    return unmatched


def _add_labels(db: sqlite3.Connection, labels: Path, rowids: dict[str, int]) -> int:
    from credo.reports.viewer import label_entry, matched_entries

    unmatched = 0
    for rowid, found in matched_entries(labels, label_entry, rowids):
        if rowid is None:
            unmatched += 1
            continue
        row = db.execute("SELECT item FROM records WHERE rowid = ?", (rowid,)).fetchone()
        item = json.loads(row[0])
        item["labels"].update(found)
        db.execute("UPDATE records SET item = ? WHERE rowid = ?", (json.dumps(item), rowid))
        db.executemany(
            "INSERT INTO labels VALUES (?, ?, ?)",
            [(rowid, j, v["label"]) for j, v in found.items() if v["label"]],
        )
    return unmatched


def fts_query(text: str, completions: Callable[[str], list[str]] | None = None) -> str | None:
    """Words of ``text`` as an FTS5 query, all required. With ``completions``, the last word
    also matches the indexed words it begins (as typed: ``pebb`` finds pebbles), spelled out
    as an OR of whole words - FTS5's own ``pebb*`` reads every match before the first row."""
    words = [w.lower() for w in _WORD.findall(text)[:16]]
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    if completions is not None:
        spelled = [w for w in completions(words[-1]) if w != words[-1]]
        if spelled:
            terms[-1] = "(" + " OR ".join([terms[-1], *(f'"{w}"' for w in spelled)]) + ")"
    return " AND ".join(terms)


_AFTER = "r.rowid > ?"


def _params_per_clause(clauses: list[str], params: list[Any]) -> list[list[Any]]:
    """``params`` split by the clause whose ``?`` each fills."""
    out, at = [], 0
    for clause in clauses:
        n = clause.count("?")
        out.append(params[at : at + n])
        at += n
    return out


class ViewIndex:
    """Read side of the index: facets, one filtered page, one record."""

    def __init__(self, path: Path) -> None:
        # Read-only, one connection per thread (the server answers on several threads).
        self.path = path
        self.db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        self.info = dict(self.db.execute("SELECT key, value FROM info").fetchall())
        self._flagged: int | None = None
        self.db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, search, row)")

    def completions(self, start: str) -> list[str]:
        """Indexed words that begin with ``start`` (a bounded range scan of the vocabulary)."""
        end = start[:-1] + chr(ord(start[-1]) + 1)
        rows = self.db.execute(
            "SELECT term FROM temp.vocab WHERE term >= ? AND term < ? ORDER BY cnt DESC LIMIT ?",
            (start, end, PREFIX_TERMS),
        )
        return [term for (term,) in rows]

    def close(self) -> None:
        self.db.close()

    @property
    def records(self) -> int:
        return int(self.info["records"])

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        checks = self.db.execute(
            "SELECT name, count(*) FROM flags GROUP BY name ORDER BY name"
        ).fetchall()
        labels = self.db.execute(
            "SELECT label, count(*) FROM labels GROUP BY label ORDER BY label"
        ).fetchall()
        return {"checks": checks, "labels": labels}

    def page(self, query: Query) -> dict[str, Any]:
        """One page of matching records in file order, the total, and whether it was capped.

        A search drives the query from the FTS index (its rowids come in order, so a page
        stops early); counting every match of a common word would read all of them, so
        combined filters count up to :data:`COUNT_CAP` and say ``more``."""
        conds, params = self._filters(query)
        source, order = "records r", "r.rowid"
        if query.q:
            if self.db.execute("SELECT 1 FROM records WHERE id = ?", (query.q,)).fetchone():
                conds, params = ["r.id = ?", *conds], [query.q, *params]
            else:
                match = fts_query(query.q, self.completions)
                if match is None:
                    return {"total": 0, "more": False, "offset": query.offset, "items": []}
                source = "search s JOIN records r ON r.rowid = s.rowid"
                order = "s.rowid"
                conds, params = ["search MATCH ?", *conds], [match, *params]

        def where(parts: list[str]) -> str:
            return "WHERE " + " AND ".join(parts) if parts else ""

        # The total counts the whole filter, not what lies past the ``after`` cursor.
        counted = [(c, p) for c, p in zip(conds, _params_per_clause(conds, params)) if c != _AFTER]
        total, more = self._count(
            query, source, where([c for c, _ in counted]), [x for _, p in counted for x in p]
        )
        rows = self.db.execute(
            f"SELECT r.rowid, r.id, r.preview FROM {source} {where(conds)} ORDER BY {order} "
            "LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        ).fetchall()
        tags = self._tags([rowid for rowid, _, _ in rows])
        return {
            "total": total,
            "more": more,
            "offset": query.offset,
            "items": [
                {"seq": rowid, "id": rid, "preview": preview, "tags": tags.get(rowid, [])}
                for rowid, rid, preview in rows
            ],
        }

    def _count(self, query: Query, source: str, where: str, params: list[Any]) -> tuple[int, bool]:
        """Exact from the indexes for one filter; capped for a search or combined filters."""
        single = [bool(query.check), bool(query.label), bool(query.q)]
        if sum(single) == 0:
            return self.records, False
        if single == [True, False, False] and query.check == "-":
            if self._flagged is None:
                row = self.db.execute("SELECT count(DISTINCT rowid) FROM flags").fetchone()
                self._flagged = int(row[0])
            return self.records - self._flagged, False
        if single == [True, False, False]:
            sql = "SELECT count(DISTINCT rowid) FROM flags WHERE name = ?"
            return int(self.db.execute(sql, (query.check,)).fetchone()[0]), False
        if single == [False, True, False]:
            sql = "SELECT count(DISTINCT rowid) FROM labels WHERE label = ?"
            return int(self.db.execute(sql, (query.label,)).fetchone()[0]), False
        counted = self.db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} {where} LIMIT {COUNT_CAP + 1})", params
        ).fetchone()[0]
        return min(int(counted), COUNT_CAP), counted > COUNT_CAP

    def record(self, record_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT rowid, item FROM records WHERE id = ?", (record_id,)
        ).fetchone()
        if row is None:
            return None
        item: dict[str, Any] = json.loads(row[1])
        item["flags"] = {
            name: json.loads(details)
            for name, details in self.db.execute(
                "SELECT name, details FROM flags WHERE rowid = ? ORDER BY name", (row[0],)
            )
        }
        return item

    def _filters(self, query: Query) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.check == "-":
            clauses.append("NOT EXISTS (SELECT 1 FROM flags f WHERE f.rowid = r.rowid)")
        elif query.check:
            clauses.append("r.rowid IN (SELECT rowid FROM flags WHERE name = ?)")
            params.append(query.check)
        if query.label:
            clauses.append("r.rowid IN (SELECT rowid FROM labels WHERE label = ?)")
            params.append(query.label)
        if query.after:
            clauses.append(_AFTER)
            params.append(query.after)
        return clauses, params

    def _tags(self, rowids: list[int]) -> dict[int, list[str]]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        tags: dict[int, list[str]] = {}
        for rowid, tag in self.db.execute(
            f"SELECT rowid, name FROM flags WHERE rowid IN ({marks}) "
            f"UNION ALL SELECT rowid, label FROM labels WHERE rowid IN ({marks})",
            [*rowids, *rowids],
        ):
            tags.setdefault(rowid, []).append(tag)
        return tags


def resolve_sources(source: Path, audit: Path | None, labels: Path | None) -> Sources:
    """The records, flags and labels files of a view, found as the static page finds them."""
    from credo.reports.viewer import find_sources

    if not source.exists():
        raise CorpusError(f"{source}: no such file or folder - pass a corpus, eval or judge folder")
    return Sources(*find_sources(source, audit, labels))
