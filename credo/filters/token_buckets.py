"""Words of a batch of texts and the CRC32 of prefixed words and word pairs, all in numpy.

The refusal classifier's hashed features are ``zlib.crc32(token) & mask`` of tokens such as
``"h:sorry"`` and ``"h:i'm_sorry"``. Its shipped weights are indexed by those buckets, so the
function may not change; only the way it is computed. Splitting each answer into Python
strings and hashing them cost about half of the audit check's time (BENCHMARKS.md, "Refusal
classifier speed"); here no Python object is made per word:

- the batch is joined into one byte buffer, lowered and mapped to word bytes / separators
  by one ``bytes.translate``, and the words are the runs of word bytes (as ``ngrams.py``
  finds its words);
- each word's CRC32 is computed over its bytes for all words at once, one byte position per
  numpy step, longest words first, so a step touches only the words still that long;
- a prefixed word or a word pair is a concatenation, and CRC32 is linear over GF(2): for
  byte strings ``a`` and ``b``,

      crc32(a + b) == shift(crc32(a), len(b)) ^ crc32(b)

  where ``shift(c, n)`` feeds ``n`` zero bytes through the CRC register. ``shift`` is linear
  in ``c`` too, so for each ``n`` it is four 256-entry lookup tables (one per byte of ``c``).

The identity is checked against ``zlib.crc32`` on every kind of token in
``tests/test_refusal_classifier.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Shift tables cover up to this many bytes; longer shifts are done in steps.
_MAX_SHIFT = 64
# Words longer than this (rare: URLs, hashes, runs of one letter) are hashed by zlib, so a
# 10,000-byte word costs one call rather than 10,000 numpy steps.
LONG_WORD = 48
_SPACE = ord(" ")


def _shift_tables() -> np.ndarray:
    """``T[n, j, v]``: the register ``v << 8j`` after ``n`` zero bytes, for ``n <= _MAX_SHIFT``,
    flattened so that one gather reads it."""
    table = np.zeros((_MAX_SHIFT + 1, 4, 256), dtype=np.uint32)
    for n in range(_MAX_SHIFT + 1):
        zeros = b"\0" * n
        base = zlib.crc32(zeros, 0)  # the part of crc32(zeros, c) that does not depend on c
        for j in range(4):
            table[n, j] = [zlib.crc32(zeros, v << (8 * j)) ^ base for v in range(256)]
    return table.reshape(-1)


_SHIFT = _shift_tables()


def shift(crc: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``crc`` registers each fed ``n`` zero bytes (elementwise)."""
    crc, n = crc.astype(np.uint32), n.astype(np.int64)
    while True:
        step = np.minimum(n, _MAX_SHIFT)  # 0 for a register already done: unchanged
        base = step * 1024
        out = _SHIFT[base + (crc & 0xFF)]
        out ^= _SHIFT[base + (256 + ((crc >> 8) & 0xFF))]
        out ^= _SHIFT[base + (512 + ((crc >> 16) & 0xFF))]
        out ^= _SHIFT[base + (768 + (crc >> 24))]
        n -= step
        if not n.any():
            return out
        crc = out


@lru_cache(maxsize=32)
def _shifted(crc: int) -> np.ndarray:
    """``shift(crc, n)`` of one register for every ``n <= _MAX_SHIFT``."""
    return shift(np.full(_MAX_SHIFT + 1, crc, np.uint32), np.arange(_MAX_SHIFT + 1))


def crc32_after(prefix: bytes, crcs: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``crc32(prefix + w)`` for words ``w`` of CRC ``crcs`` and byte length ``lengths``."""
    table = _shifted(zlib.crc32(prefix))
    out = table[np.minimum(lengths, _MAX_SHIFT)]
    long = np.flatnonzero(lengths > _MAX_SHIFT)
    if len(long):
        out[long] = shift(out[long], lengths[long] - _MAX_SHIFT)
    return out ^ crcs


def crc32_concat(first: np.ndarray, lengths: np.ndarray, crcs: np.ndarray) -> np.ndarray:
    """``crc32(a + b)`` from ``crc32(a)``, ``len(b)`` and ``crc32(b)`` (elementwise)."""
    return shift(first, lengths) ^ crcs


def _byte_tables() -> tuple[np.ndarray, bytes]:
    crc = np.zeros(256, dtype=np.uint32)  # zlib's byte-wise table (reflected polynomial)
    for v in range(256):
        c = v
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        crc[v] = c
    # Word bytes are [a-z0-9'] after lowering and "`" -> "'"; "?" and "!" are one-byte
    # words; every other byte separates words.
    table = bytearray(b" " * 256)
    for byte in b"abcdefghijklmnopqrstuvwxyz0123456789'?!":
        table[byte] = byte
    for byte in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        table[byte] = byte + 32
    table[ord("`")] = ord("'")
    return crc, bytes(table)


_CRC, _TABLE = _byte_tables()


@dataclass(frozen=True)
class Words:
    """The words of a batch of texts: byte spans in :attr:`buffer`, text by text."""

    buffer: np.ndarray  # the joined texts, lowered, separators as spaces
    starts: np.ndarray
    lengths: np.ndarray
    text: np.ndarray  # the text number of each word
    counts: np.ndarray  # words per text
    first: np.ndarray  # the index of each text's first word

    @property
    def position(self) -> np.ndarray:
        """Each word's position in its text (0 for a text's first word)."""
        return np.arange(len(self.starts)) - np.repeat(self.first, self.counts)

    def crc32(self, which: np.ndarray) -> np.ndarray:
        """CRC32 of the words ``which`` (indices), equal to ``zlib.crc32`` of their bytes."""
        starts, lengths = self.starts[which], self.lengths[which]
        out = np.empty(len(which), dtype=np.uint32)
        short = np.flatnonzero(lengths <= LONG_WORD)
        # Longest first, so the words still being read at byte j are a prefix of the order
        # (a stable sort of small integers is a radix sort: linear).
        order = short[np.argsort((LONG_WORD - lengths[short]).astype(np.uint8), kind="stable")]
        spans, sizes = starts[order], lengths[order]
        crc = np.full(len(order), 0xFFFFFFFF, dtype=np.uint32)
        width = int(sizes[0]) if len(sizes) else 0
        reading = np.searchsorted(-sizes, -np.arange(width), side="left")
        for j, m in enumerate(reading.tolist()):
            register = crc[:m]
            crc[:m] = _CRC[(register ^ self.buffer[spans[:m] + j]) & 0xFF] ^ (register >> 8)
        out[order] = crc ^ 0xFFFFFFFF
        for i in np.flatnonzero(lengths > LONG_WORD).tolist():
            out[i] = zlib.crc32(self.buffer[starts[i] : starts[i] + lengths[i]].tobytes())
        return out


def split_words(texts: Sequence[str]) -> Words:
    """The words of ASCII ``texts``: runs of ``[a-z0-9']`` after lowering, and each ``?`` or
    ``!`` alone (``re.findall(r"[a-z0-9']+|[?!]", text.lower())``, "`" read as "'")."""
    joined = " ".join(texts).encode("ascii").translate(_TABLE)  # a space keeps texts apart
    buffer = np.frombuffer(joined, dtype=np.uint8)
    padded = np.frombuffer(b" " + joined + b" ", dtype=np.uint8)
    word = padded != _SPACE
    edges = np.flatnonzero(word[1:] != word[:-1])  # alternating start, end of each run
    starts, ends = edges[0::2], edges[1::2]
    if b"?" in joined or b"!" in joined:  # a run holding them splits around each one
        single = np.flatnonzero((buffer == ord("?")) | (buffer == ord("!")))
        cut = np.zeros(len(buffer) + 1, dtype=bool)  # (np.isin and np.unique import numpy.ma)
        cut[single] = cut[single + 1] = True
        inside = np.flatnonzero(cut[1:-1]) + 1
        inside = inside[(buffer[inside - 1] != _SPACE) & (buffer[inside] != _SPACE)]
        starts = np.sort(np.concatenate([starts, inside]))
        ends = np.sort(np.concatenate([ends, inside]))
    # texts start at offsets[i] in the buffer; the words of text i lie before offsets[i + 1]
    offsets = np.cumsum([0] + [len(t) + 1 for t in texts])
    bounds = np.searchsorted(starts, offsets)
    counts = np.diff(bounds)
    return Words(
        buffer=buffer,
        starts=starts,
        lengths=ends - starts,
        text=np.repeat(np.arange(len(texts)), counts),
        counts=counts,
        first=bounds[:-1],
    )
