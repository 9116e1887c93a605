"""CRC32 hash buckets of prefixed words and word pairs, for a whole batch of texts in numpy.

The refusal classifier's hashed features are ``zlib.crc32(token) & mask`` of tokens such as
``"h:sorry"`` and ``"h:i'm_sorry"``. Its shipped weights are indexed by those buckets, so the
function may not change; only the way it is computed. Hashing each token in Python cost
~200 string builds and ``crc32`` calls per answer, a quarter of the audit check's time.

Here every distinct word is hashed once (a process-wide table; text is Zipfian, so the
table stays small) and a word pair's CRC is derived from its two words' CRCs, because
CRC32 is linear over GF(2): for byte strings ``a`` and ``b``,

    crc32(a + b) == shift(crc32(a), len(b)) ^ crc32(b)

where ``shift(c, n)`` feeds ``n`` zero bytes through the CRC register. ``shift`` is linear in
``c`` too, so for each ``n`` it is four 256-entry lookup tables (one per byte of ``c``), and a
batch's pairs are shifted with four numpy gathers: 21-26 us a record against 57-60 us for a
``zlib.crc32`` call per token (BENCHMARKS.md, "Refusal classifier speed"). The identity is
checked against ``zlib.crc32`` on every kind of token in ``tests/test_refusal_classifier.py``.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from itertools import repeat

import numpy as np

# Shift tables cover pair tails of up to this many bytes; longer ones are shifted in steps.
_MAX_SHIFT = 64
# A table this big (~20 MB) is dropped and refilled: a corpus of random strings cannot grow it
# without bound.
MAX_WORDS = 500_000


def _shift_tables() -> np.ndarray:
    """``T[n, j, v]``: the register ``v << 8j`` after ``n`` zero bytes, for ``n <= _MAX_SHIFT``."""
    table = np.zeros((_MAX_SHIFT + 1, 4, 256), dtype=np.uint32)
    for n in range(_MAX_SHIFT + 1):
        zeros = b"\0" * n
        base = zlib.crc32(zeros, 0)  # the part of crc32(zeros, c) that does not depend on c
        for j in range(4):
            table[n, j] = [zlib.crc32(zeros, v << (8 * j)) ^ base for v in range(256)]
    return table


_SHIFT = _shift_tables()


def _shift(crc: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``crc`` registers each fed ``n`` zero bytes (elementwise)."""
    crc, n = crc.copy(), n.copy()
    while True:
        step = np.minimum(n, _MAX_SHIFT)
        crc = (
            _SHIFT[step, 0, crc & 0xFF]
            ^ _SHIFT[step, 1, (crc >> 8) & 0xFF]
            ^ _SHIFT[step, 2, (crc >> 16) & 0xFF]
            ^ _SHIFT[step, 3, crc >> 24]
        )
        n -= step
        if not n.any():
            return crc


class WordTable:
    """Per distinct word: CRC32 of each prefixed unigram token, and of ``"_" + word``."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        self.prefixes = tuple(prefixes)
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.ids: dict[str, int] = {}
        self._rows: list[tuple[int, ...]] = []  # per word: crc per prefix, crc("_"+w), its length
        self.table = np.zeros((0, len(self.prefixes) + 2), dtype=np.uint32)

    def lookup(self, words: list[str]) -> np.ndarray:
        """Row numbers of ``words`` in :attr:`table`, adding the words not seen yet."""
        if len(self.ids) > MAX_WORDS:
            self.clear()
        ids = np.fromiter(map(self.ids.get, words, repeat(-1)), dtype=np.int64, count=len(words))
        if ids.min(initial=0) < 0:  # words not seen yet: add them, then read again
            for word in sorted(set(words).difference(self.ids)):
                self.ids[word] = len(self._rows)
                joint = ("_" + word).encode()
                self._rows.append(
                    (
                        *(zlib.crc32((p + word).encode()) for p in self.prefixes),
                        zlib.crc32(joint),
                        len(joint),
                    )
                )
            self.table = np.asarray(self._rows, dtype=np.uint32).reshape(-1, self.table.shape[1])
            ids = np.fromiter(map(self.ids.__getitem__, words), dtype=np.int64, count=len(words))
        return ids

    def crcs(
        self, words: list[str], prefix: np.ndarray, pair: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """CRC32 of every ``prefix + word`` token, and of every ``prefix + word + "_" + next``
        token where ``pair`` marks a position whose next word belongs to the same run.

        ``prefix`` indexes :attr:`prefixes` per position; ``pair`` has one entry per position
        but the last."""
        with self._lock:  # one table per process: a thread's ids must index its table
            ids = self.lookup(words)  # may grow (or clear and refill) the table: read it after
            rows = self.table[ids]
        unigrams = rows[np.arange(len(words)), prefix]
        first = np.flatnonzero(pair)
        second = rows[first + 1]
        pairs = _shift(unigrams[first], second[:, -1]) ^ second[:, -2]
        return unigrams, pairs
