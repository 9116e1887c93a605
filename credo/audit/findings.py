"""An audit's findings on disk: written as they arrive, read back in ordered passes.

A finding held in memory costs ~640 bytes; a check that flags 44% of ten million records
would hold ~3 GB through the reduce and again while the reports are written. Here they go to
an SQLite file in the audit's spill folder (``CREDO_SPILL_DIR``) a batch at a time, and every
reader (``flags.jsonl``, the reports' tables, ``credo filter``) pages through a query, so the
process holds one batch of them at a time and small summaries (counts per check).

The order is the one the in-memory list had: check by check in the audit's order, each
check's findings in the order it gave them. ``ord`` (the row id) encodes it as ``(position
of the check << 40) + arrival within the check``, so findings of checks that stream while the
map runs may arrive interleaved and still read back in that order.
"""

from __future__ import annotations

import pickle
import sqlite3
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

from credo.filters.base import Finding
from credo.filters.spill import Spill

PAGE = 4096  # findings per write and per read: what is held at once
_SHIFT = 40  # room for 10^12 findings per check
Score = Callable[[Finding], float]


def _zero(_: Finding) -> float:
    return 0.0


class FindingStore:
    """Every finding of one audit, in an SQLite file, in the order the checks gave them.

    ``checks`` fixes the order of the checks; ``scores`` gives, per check, the number its
    report table sorts on (worst first), computed once as a finding is written."""

    def __init__(
        self, checks: Sequence[str] = (), scores: Mapping[str, Score] | None = None
    ) -> None:
        self._spill = Spill()
        self._db = sqlite3.connect(self._spill.folder / "findings.sqlite", check_same_thread=False)
        self._finalizer = weakref.finalize(self, self._db.close)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -16384"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE findings (ord INTEGER PRIMARY KEY, record_id TEXT NOT NULL,"
            " check_name TEXT NOT NULL, blocking INTEGER NOT NULL, score REAL NOT NULL,"
            " details BLOB NOT NULL)"
        )
        self._order: dict[str, int] = {}
        self._scores = dict(scores or {})
        self._count: dict[str, int] = {}
        self._blocking: dict[str, int] = {}
        self._indexed = False
        for name in checks:
            self._position(name)

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FindingStore:
        """``findings`` as a store (itself when it is one)."""
        if isinstance(findings, FindingStore):
            return findings
        store = cls()
        store.add(findings)
        return store

    # -- writing -----------------------------------------------------------------------------

    def _position(self, check: str) -> int:
        if check not in self._order:
            self._order[check] = len(self._order)
            self._count[check] = self._blocking[check] = 0
        return self._order[check]

    def add(self, findings: Iterable[Finding]) -> int:
        """Write findings (any checks, each check's in its order), a page at a time; the count."""
        written, found = 0, iter(findings)
        while page := list(islice(found, PAGE)):
            rows = []
            for f in page:
                base = self._position(f.check) << _SHIFT
                score = float(self._scores.get(f.check, _zero)(f))
                rows.append(
                    (
                        base + self._count[f.check],
                        f.record_id,
                        f.check,
                        int(f.blocking),
                        score if score == score else 0.0,  # NaN: SQLite would store NULL
                        pickle.dumps(f.details, protocol=pickle.HIGHEST_PROTOCOL),
                    )
                )
                self._count[f.check] += 1
                self._blocking[f.check] += bool(f.blocking)
            if self._indexed:  # written after a read: the read indexes are rebuilt
                self._drop_indexes()
            self._db.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.commit()  # a page at a time: the cache never holds more than a page of them
            written += len(rows)
        return written

    def append(self, finding: Finding) -> None:
        self.add([finding])

    def extend(self, findings: Iterable[Finding]) -> None:
        self.add(findings)

    # -- summaries (held in memory) -----------------------------------------------------------

    def count(self, check: str | None = None, blocking: bool = False) -> int:
        counts = self._blocking if blocking else self._count
        return sum(counts.values()) if check is None else counts.get(check, 0)

    def __len__(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return len(self) > 0

    def checks(self) -> list[str]:
        """The checks with findings, in the audit's order."""
        return [name for name in self._order if self._count[name]]

    # -- reading -----------------------------------------------------------------------------

    def _index(self) -> None:
        """The indexes the readers page through, built once the writing is done."""
        if self._indexed:
            return
        self._db.executescript(
            "CREATE INDEX by_rank ON findings (check_name, blocking DESC, score DESC, ord);"
            "CREATE INDEX by_record ON findings (record_id, ord);"
            "CREATE TABLE firsts (first INTEGER PRIMARY KEY, record_id TEXT NOT NULL);"
            "INSERT INTO firsts SELECT MIN(ord), record_id FROM findings GROUP BY record_id;"
        )
        self._indexed = True

    def _drop_indexes(self) -> None:
        self._db.executescript(
            "DROP INDEX by_rank; DROP INDEX by_record; DROP TABLE firsts;"
            "DROP TABLE IF EXISTS dropped;"
        )
        self._indexed = False

    def _query(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows of a read query, fetched a page at a time."""
        self._index()
        cursor = self._db.execute(sql, args)
        try:
            while rows := cursor.fetchmany(PAGE):
                yield from rows
        finally:
            cursor.close()

    def _findings(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Finding]:
        for record_id, check, blocking, details in self._query(sql, args):
            yield Finding(record_id, check, pickle.loads(details), bool(blocking))

    def __iter__(self) -> Iterator[Finding]:
        return self._findings(f"SELECT {_COLUMNS} FROM findings ORDER BY ord")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Sequence, FindingStore)) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def of_check(self, check: str, blocking: bool = False) -> CheckFindings:
        """One check's findings (only those failing its gate with ``blocking``), read lazily."""
        return CheckFindings(self, check, blocking)

    def flagged_records(self) -> int:
        return int(next(self._query("SELECT COUNT(*) FROM firsts"))[0])

    def flags(self) -> Iterator[dict[str, Any]]:
        """One entry per flagged record, ``{"id", "checks", "blocking", "details"}``, records in
        the order of their first finding and each record's findings in order (what
        :meth:`credo.audit.result.AuditResult.flags` builds from a list)."""
        rows = self._query(
            f"SELECT {_COLUMNS.replace('record_id', 'f.record_id')} FROM firsts r"
            " JOIN findings f ON f.record_id = r.record_id ORDER BY r.first, f.ord"
        )
        entry: dict[str, Any] | None = None
        for record_id, check, blocking, details in rows:
            if entry is None or entry["id"] != record_id:
                if entry is not None:
                    yield entry
                entry = {"id": record_id, "checks": [], "blocking": [], "details": {}}
            entry["checks"].append(check)
            if blocking:
                entry["blocking"].append(check)
            entry["details"][check] = pickle.loads(details)
        if entry is not None:
            yield entry

    # -- what credo filter removes ------------------------------------------------------------

    def drop(self, checks: Collection[str]) -> Dropped:
        """The records with a finding of one of ``checks`` (those ``credo filter`` removes)."""
        self._index()
        names = sorted(checks)
        self._db.executescript("DROP TABLE IF EXISTS dropped;")
        self._db.execute("CREATE TABLE dropped (record_id TEXT PRIMARY KEY) WITHOUT ROWID")
        marks = ", ".join("?" * len(names))
        self._db.execute(
            "INSERT OR IGNORE INTO dropped SELECT record_id FROM findings"
            f" WHERE check_name IN ({marks})",
            names,
        )
        return Dropped(self)


_COLUMNS = "record_id, check_name, blocking, details"


class CheckFindings(Sequence[Finding]):
    """One check's findings in a store: iterated in order, sliced by position, and
    :meth:`ranked` (failing the gate first, then worst first) as the report tables show them."""

    def __init__(self, store: FindingStore, check: str, blocking: bool = False) -> None:
        self.store, self.check, self.blocking_only = store, check, blocking
        self.order = "ord"

    def blocking(self) -> CheckFindings:
        return CheckFindings(self.store, self.check, blocking=True)

    def ranked(self) -> CheckFindings:
        ranked = CheckFindings(self.store, self.check, self.blocking_only)
        ranked.order = "blocking DESC, score DESC, ord"
        return ranked

    def __len__(self) -> int:
        return self.store.count(self.check, self.blocking_only)

    def _select(self, tail: str = "", args: Sequence[Any] = ()) -> Iterator[Finding]:
        where = "check_name = ?" + (" AND blocking = 1" if self.blocking_only else "")
        return self.store._findings(
            f"SELECT {_COLUMNS} FROM findings WHERE {where} ORDER BY {self.order}{tail}",
            [self.check, *args],
        )

    def __iter__(self) -> Iterator[Finding]:
        return self._select()

    def __getitem__(self, index: Any) -> Any:  # a Finding; a list of them for a slice
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            return list(self._select(" LIMIT ? OFFSET ?", [max(0, stop - start), start]))
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return self[position : position + 1][0]


class Dropped(Collection[str]):
    """The ids ``credo filter`` removes, looked up in the store (never all held at once)."""

    def __init__(self, store: FindingStore) -> None:
        self.store = store

    def __contains__(self, record_id: object) -> bool:
        rows = self.store._db.execute("SELECT 1 FROM dropped WHERE record_id = ?", (record_id,))
        return rows.fetchone() is not None

    def __len__(self) -> int:
        return int(self.store._db.execute("SELECT COUNT(*) FROM dropped").fetchone()[0])

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self.store._query("SELECT record_id FROM dropped"))

    def flag(self, record_id: str) -> dict[str, Any]:
        """The record's entry as :meth:`FindingStore.flags` gives it."""
        entry: dict[str, Any] = {"id": record_id, "checks": [], "blocking": [], "details": {}}
        rows = self.store._db.execute(
            "SELECT check_name, blocking, details FROM findings WHERE record_id = ? ORDER BY ord",
            (record_id,),
        )
        for check, blocking, details in rows:
            entry["checks"].append(check)
            if blocking:
                entry["blocking"].append(check)
            entry["details"][check] = pickle.loads(details)
        return entry

    def by_check(self) -> dict[str, int]:
        """Per check, its findings on removed records."""
        rows = self.store._query(
            "SELECT check_name, COUNT(*) FROM findings WHERE record_id IN"
            " (SELECT record_id FROM dropped) GROUP BY check_name ORDER BY MIN(ord)"
        )
        return {check: int(n) for check, n in rows}

    def left(self, gates: Collection[str]) -> dict[str, int]:
        """Per gate, its blocking findings on records kept, in the audit's order."""
        names = sorted(gates)
        rows = self.store._query(
            "SELECT check_name, COUNT(*) FROM findings WHERE blocking = 1 AND check_name IN"
            f" ({', '.join('?' * len(names))}) AND record_id NOT IN"
            " (SELECT record_id FROM dropped) GROUP BY check_name ORDER BY MIN(ord)",
            names,
        )
        return {check: int(n) for check, n in rows}
