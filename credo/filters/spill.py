"""Per-record partials on disk: rows appended batch by batch, read back a block at a time.

A streamed audit keeps, per record, 16 MinHash band keys and 128 16-bit signature slots
(near_duplicate) and one float16 vector (semantic_duplicate): ~900 bytes, so 0.9 GB at a
million records and 9 GB at ten million. Held in memory, they make peak memory grow with the
corpus. Here each column is a flat file in a temporary folder (``CREDO_SPILL_DIR``, else the
system's): the map step appends a batch's rows, the reduce reads them back in blocks
(``np.fromfile`` at an offset) or gathers rows through a memory map that it drops after each
use, so the pages it touched leave the process again. The files go when the reduce is done
(or the process ends: the CLI turns SIGTERM into a normal exit, and a folder a ``kill -9``
left is swept by the next spill, as no live process holds its lock).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, overload

import numpy as np

from credo.runs import hold_fresh, open_folder

SPILL_ENV = "CREDO_SPILL_DIR"
BLOCK_BYTES = 64 << 20  # a block read back holds ~64 MB


SPILL_PREFIX = "credo-spill-"

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no sweep of other runs' folders
    fcntl = None  # type: ignore[assignment]


def spill_base() -> Path:
    return Path(os.environ.get(SPILL_ENV) or tempfile.gettempdir())


def spill_folder() -> Path:
    """A fresh temporary folder for one partial's files, removed when it is garbage."""
    return _locked_folder()[0]


def _locked_folder() -> tuple[Path, int]:
    """A fresh ``credo-spill-*`` folder and a descriptor holding its ``flock`` while this
    process lives: a folder nobody holds is a killed run's, and :func:`remove_stale_spills`
    (run first, here) removes it. SIGTERM and Ctrl-C end the CLI through its cleanup."""
    base = spill_base()
    base.mkdir(parents=True, exist_ok=True)
    remove_stale_spills(base)
    return hold_fresh(lambda: open_folder(tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=base)))


def remove_stale_spills(base: Path | None = None) -> int:
    """Remove the ``credo-spill-*`` folders in ``base`` that no live process holds (what a
    ``kill -9`` left); never a symlink, never one a live run is using. Returns the count."""
    if fcntl is None:
        return 0
    removed = 0
    try:
        entries = list(os.scandir(base or spill_base()))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(SPILL_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            handle = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            continue  # a live run holds it
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += not os.path.exists(entry.path)
        finally:
            os.close(handle)
    return removed


def _remove(folder: Path, handle: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    with suppress(OSError):
        os.close(handle)


class SpilledRows:
    """Rows of one width and dtype in a file: ``add`` appends, the readers never load all of it."""

    def __init__(self, folder: Path, name: str, width: int, dtype: Any) -> None:
        self.path = folder / f"{name}.bin"
        self.width = width
        self.dtype = np.dtype(dtype)
        self.rows = 0
        self.owner: Any = None
        self.path.touch()

    def __len__(self) -> int:
        return self.rows

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.width)

    def add(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype).reshape(-1, self.width)
        with self.path.open("ab") as handle:
            rows.tofile(handle)
        self.rows += len(rows)

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``start:stop`` as an array in memory."""
        stop = self.rows if stop is None else min(stop, self.rows)
        count = max(0, stop - start) * self.width
        offset = start * self.width * self.dtype.itemsize
        data = np.fromfile(self.path, dtype=self.dtype, count=count, offset=offset)
        return data.reshape(-1, self.width)

    def block_rows(self) -> int:
        return max(1, BLOCK_BYTES // max(1, self.width * self.dtype.itemsize))

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, rows)`` blocks of ~64 MB, in order."""
        step = self.block_rows()
        for start in range(0, self.rows, step):
            yield start, self.read(start, start + step)

    def write(self, start: int, rows: np.ndarray) -> None:
        """Overwrite rows from ``start`` (centring the vectors in place)."""
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        with self.path.open("r+b") as handle:
            handle.seek(start * self.width * self.dtype.itemsize)
            rows.tofile(handle)

    def take(self, index: np.ndarray) -> np.ndarray:
        """The rows at ``index`` (any order), gathered through a memory map of one ~64 MB
        window of the file at a time, each dropped before the next: a scattered sample of
        the rows would otherwise bring most of the file's pages into the process."""
        index = np.asarray(index, dtype=np.int64)
        out = np.empty((len(index), self.width), dtype=self.dtype)
        if not len(index):
            return out
        order = np.argsort(index, kind="stable")
        wanted = index[order]
        step, row_bytes = self.block_rows(), self.width * self.dtype.itemsize
        edges = np.searchsorted(wanted, np.arange(0, self.rows + step, step))
        for window, start in enumerate(range(0, self.rows, step)):
            lo, hi = edges[window], edges[window + 1]
            if lo == hi:
                continue
            rows = min(step, self.rows - start)
            mapped = np.memmap(
                self.path, self.dtype, "r", offset=start * row_bytes, shape=(rows, self.width)
            )
            out[order[lo:hi]] = mapped[wanted[lo:hi] - start]
            del mapped
        return out

    def __getitem__(self, index: Any) -> np.ndarray:
        """Fancy or slice indexing, as on an array (what the pair searches do)."""
        if isinstance(index, slice):
            start, stop, step = index.indices(self.rows)
            rows = self.read(start, stop)
            return rows[::step] if step != 1 else rows
        if isinstance(index, (int, np.integer)):
            return self.read(int(index), int(index) + 1)[0]
        return self.take(np.asarray(index))


class Spill:
    """Named columns of one check's per-record partials in one temporary folder."""

    def __init__(self) -> None:
        self.folder, handle = _locked_folder()
        self.columns: dict[str, SpilledRows] = {}
        self._cleanup = weakref.finalize(self, _remove, self.folder, handle)

    def column(self, name: str, width: int, dtype: Any) -> SpilledRows:
        if name not in self.columns:
            column = SpilledRows(self.folder, name, width, dtype)
            column.owner = self  # the folder lives while a column of it is in use
            self.columns[name] = column
        return self.columns[name]

    def close(self) -> None:
        self._cleanup()


def set_rows(target: Any, start: int, rows: np.ndarray) -> None:
    """``target[start:start + len(rows)] = rows`` on an array or a spilled column."""
    if isinstance(target, SpilledRows):
        target.write(start, rows)
    else:
        target[start : start + len(rows)] = rows


def in_memory(rows: Any, dtype: Any = None) -> np.ndarray:
    """All of ``rows`` as an array (a spilled column is read whole: only for small ones)."""
    data = rows.read() if isinstance(rows, SpilledRows) else rows
    return np.asarray(data, dtype=dtype)


class SpilledIds(Sequence[str]):
    """Record ids in corpus order, in a file with an offset per id (8 bytes in memory a record,
    not a Python string of ~60): what ``corpus.ids`` is in a streamed audit."""

    FLUSH = 65536

    def __init__(self) -> None:
        self._spill = Spill()
        self._path = self._spill.folder / "ids.bin"
        self._path.touch()
        self._ends: list[np.ndarray] = []  # end offsets, flushed a block at a time
        self._flushed = 0
        self._pending: list[str] = []
        self._size = 0
        self._reader: Any = None

    def append(self, record_id: str) -> None:
        self._pending.append(record_id)
        if len(self._pending) >= self.FLUSH:
            self._flush()

    def extend(self, ids: Iterable[str]) -> None:
        for record_id in ids:
            self.append(record_id)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = [i.encode("utf-8") for i in self._pending]
        ends = self._size + np.cumsum([len(d) for d in data], dtype=np.int64)
        with self._path.open("ab") as handle:
            handle.write(b"".join(data))
        self._ends.append(ends)
        self._size = int(ends[-1])
        self._flushed += len(data)
        self._pending = []
        if len(self._ends) > 1:  # one array: lookups stay a single searchsorted-free index
            self._ends = [np.concatenate(self._ends)]

    def __len__(self) -> int:
        return self._flushed + len(self._pending)

    def __bool__(self) -> bool:
        return len(self) > 0

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index >= self._flushed:
            return self._pending[index - self._flushed]
        ends = self._ends[0]
        start = int(ends[index - 1]) if index else 0
        if self._reader is None:
            self._reader = self._path.open("rb")
        self._reader.seek(start)
        return str(self._reader.read(int(ends[index]) - start).decode("utf-8"))

    def __iter__(self) -> Iterator[str]:
        for index in range(len(self)):
            yield self[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]
