"""How a check shows up in the audit reports, declared next to the check itself.

A check's :class:`~credo.filters.base.CheckSpec` names the table its findings add
(:class:`FindingsTable`: a title and columns read from each finding's ``details``), and may
add tables built from its report section (``tables``) and a plot (``plot``). The Markdown,
text and HTML reports render every check from these declarations alone, so a new check, built
in or from a plugin, needs no edit in :mod:`credo.audit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from credo.filters.base import Finding


@dataclass
class Table:
    """One report table. ``rows`` are every row there is: the reports show the first ones
    and write all of them to a JSONL file named in the table's note (``key`` names the file)."""

    title: str
    headers: list[str]
    rows: Sequence[list[Any]]  # a list, or rows read lazily from the findings on disk
    note: str = ""
    key: str = ""  # file-safe name for the table's full JSONL; derived from the title if empty
    # How the reports show the texts of a row side by side: the columns holding two texts
    # whose differing words are marked (duplicate clusters).
    compare: tuple[int, int] | None = None
    # The first column names a group (a check's parameters): the reports show it once per
    # group, the full JSONL on every row.
    group_first: bool = False


@dataclass(frozen=True)
class Column:
    """A column of a findings table: ``value`` is a key of the finding's details or a function
    of them; lists are joined with "; "."""

    header: str
    value: str | Callable[[dict[str, Any]], Any]

    def read(self, details: dict[str, Any]) -> Any:
        value = details.get(self.value) if isinstance(self.value, str) else self.value(details)
        if isinstance(value, (list, tuple)):
            return "; ".join(map(str, value))
        return value


@dataclass(frozen=True)
class FindingsTable:
    """The table a check's findings add: one row per finding (record id first), worst first
    when ``worst`` gives a score to sort on (higher is worse).

    A column given as a plain string reads that details key, headed by the key (``"word
    overlap"`` for ``word_overlap``). ``worst`` may be a details key, or keys of which the
    first one set is the score, instead of a function of the finding."""

    title: str
    columns: Sequence[Column | str] = ()
    worst: Callable[[Finding], float] | str | tuple[str, ...] | None = None

    def score(self, finding: Finding) -> float:
        if self.worst is None:
            return 0.0
        if callable(self.worst):
            return self.worst(finding)
        keys = (self.worst,) if isinstance(self.worst, str) else self.worst
        return float(next((v for k in keys if (v := finding.details.get(k))), 0))

    def row(self, finding: Finding) -> list[Any]:
        return [finding.record_id, *(_column(c).read(finding.details) for c in self.columns)]

    def rows(self, findings: Sequence[Finding]) -> Sequence[list[Any]]:
        """A row per finding, blocking findings first (they are what fails a gate), then worst
        first. Findings read from disk that come ``ranked()`` already give rows read lazily."""
        ranked = getattr(findings, "ranked", None)
        if ranked is not None:
            return LazyRows(ranked(), self.row)
        ordered = sorted(findings, key=lambda f: (not f.blocking, -self.score(f)))
        return [self.row(f) for f in ordered]

    def table(self, findings: Sequence[Finding], note: str = "") -> Table:
        headers = ["record", *(_column(c).header for c in self.columns)]
        return Table(self.title, headers, self.rows(findings), note)


class LazyRows(Sequence[list[Any]]):
    """Table rows made from findings as they are read: a slice reads only its rows, iterating
    reads them all a page at a time (the full table's JSONL of a large audit)."""

    def __init__(self, findings: Sequence[Finding], row: Callable[[Finding], list[Any]]) -> None:
        self.findings, self.row = findings, row

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[list[Any]]:
        return map(self.row, self.findings)

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[Any]]: ...

    def __getitem__(self, index: int | slice) -> list[Any] | list[list[Any]]:
        if isinstance(index, slice):
            return [self.row(f) for f in self.findings[index]]
        return self.row(self.findings[index])


def blocking(findings: Sequence[Finding]) -> Sequence[Finding]:
    """The findings that fail a gate (read lazily when the findings offer ``blocking()``)."""
    only = getattr(findings, "blocking", None)
    return only() if callable(only) else [f for f in findings if f.blocking]


@dataclass(frozen=True)
class CheckReport:
    """What a check's report declarations read: its findings (a list, or a sequence read
    lazily from the audit's store on disk), its section of the report
    (``ctx.sections[name]``) and its parameters."""

    name: str
    findings: Sequence[Finding]
    section: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def details_columns(findings: Sequence[Finding]) -> list[Column]:
    """Columns for a check that declares none: every details key, in first-seen order."""
    keys: dict[str, None] = {}
    for finding in findings:
        keys.update(dict.fromkeys(finding.details))
    return [key_column(key) for key in keys]


def key_column(key: str) -> Column:
    """The column reading one details key, headed by the key with spaces for underscores."""
    return Column(key.replace("_", " "), key)


def _column(column: Column | str) -> Column:
    return key_column(column) if isinstance(column, str) else column


TablesFn = Callable[[CheckReport], list[Table]]
# Draws on a matplotlib Axes; returns False when there is nothing to draw.
PlotFn = Callable[[CheckReport, Any], bool]
