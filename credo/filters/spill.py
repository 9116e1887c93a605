"""Per-record partials on disk: rows appended batch by batch, read back a block at a time.

A streamed audit keeps, per record, 16 MinHash band keys and 128 16-bit signature slots
(near_duplicate) and one float16 vector (semantic_duplicate): ~900 bytes, so 0.9 GB at a
million records and 9 GB at ten million. Held in memory, they make peak memory grow with the
corpus. Here each column is a flat file in a temporary folder (``CREDO_SPILL_DIR``, else the
system's): the map step appends a batch's rows, the reduce reads them back in blocks
(``np.fromfile`` at an offset) or gathers rows through a memory map that it drops after each
use, so the pages it touched leave the process again. The files go when the reduce is done
(or the process ends).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

SPILL_ENV = "CREDO_SPILL_DIR"
BLOCK_BYTES = 64 << 20  # a block read back holds ~64 MB


def spill_folder() -> Path:
    """A fresh temporary folder for one partial's files, removed when it is garbage."""
    base = os.environ.get(SPILL_ENV) or None
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="credo-spill-", dir=base))


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
        """The rows at ``index`` (any order), through a memory map dropped on return."""
        if not len(index) or not self.rows:
            return np.zeros((len(index), self.width), dtype=self.dtype)
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.rows, self.width))
        try:
            return np.asarray(mapped[np.asarray(index)])
        finally:
            del mapped

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
        self.folder = spill_folder()
        self.columns: dict[str, SpilledRows] = {}
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)

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
