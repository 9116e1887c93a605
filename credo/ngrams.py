"""Words and n-grams, one definition for the whole package: the leakage index and its
queries, eval contamination's n-gram test, and the MinHash shingles of dedup all tokenise
and hash here, so "the same 13-gram" means the same thing to each of them.

Text is normalised byte-wise: ASCII letters are lower-cased, ASCII digits and all non-ASCII
bytes (UTF-8 letters) are word bytes, everything else separates words. A word's hash comes
from two unaligned 8-byte loads of the buffer (see :func:`token_hashes`), so no Python loop
runs per word; an n-gram's hash is a polynomial over word hashes modulo 2**64, computed for
all windows at once by doubling. Both are position independent, so a phrase hashed on its
own matches the same phrase inside any document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

# English function words: the checks that compare content words leave these out.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "as",
        "at",
        "by",
        "from",
        "into",
        "onto",
        "out",
        "over",
        "under",
        "about",
        "this",
        "that",
        "these",
        "those",
        "is",
        "are",
        "was",
        "were",
        "be",
        "its",
        "their",
        "there",
        "his",
        "her",
        "our",
        "your",
        "my",
        "than",
        "then",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "some",
        "each",
        "other",
    }
)

SEPARATOR = 0x20
_BASE = 0x100000001B3  # the 64-bit FNV prime: odd, so no bits are lost per step


def _translation_table() -> bytes:
    table = bytearray(range(256))
    for byte in range(256):
        if 65 <= byte <= 90:
            table[byte] = byte + 32
        elif not (97 <= byte <= 122 or 48 <= byte <= 57 or byte >= 128):
            table[byte] = SEPARATOR
    return bytes(table)


TABLE = _translation_table()


def spread(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits (in place)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def normalise(data: bytes) -> bytes:
    """Lower-case and map separators to spaces (the byte form every hash is computed on)."""
    return data.translate(TABLE)


def word_spans(normalised: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) byte offsets of every word of a normalised buffer."""
    codes = np.frombuffer(b" " + normalised + b" ", np.uint8)
    word = codes != SEPARATOR
    edges = np.flatnonzero(word[1:] != word[:-1])  # alternating start, end (padded buffer)
    return edges[0::2], edges[1::2]


_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], np.uint64)
_K1, _K2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)


def token_hashes(normalised: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(hash of every word, its start offset) for a normalised buffer.

    A word of up to 16 bytes is hashed from two unaligned 8-byte loads (its first and last
    8 bytes) plus its length, read through a strided uint64 view of the buffer: no per-byte
    arithmetic, which is what makes indexing run at disk speed. Longer words (rare) take an
    exact slow path.
    """
    starts, ends = word_spans(normalised)
    if len(starts) == 0:
        return np.zeros(0, np.uint64), starts
    padded = np.frombuffer(normalised + b" " * 8, np.uint8)
    window = np.ndarray(
        (len(normalised) + 1,), np.dtype("<u8"), buffer=padded, offset=0, strides=(1,)
    )
    lengths = ends - starts
    low = _LOW_BYTES[np.minimum(lengths, 8)]
    hashes = window[starts] & low
    hashes *= _K1
    tail = window[np.maximum(ends - 8, starts)]
    tail &= low
    tail *= _K2
    hashes ^= tail
    hashes += lengths.astype(np.uint64)
    hashes = spread(hashes)
    long_words = np.flatnonzero(lengths > 16)
    for i in long_words.tolist():  # exact, and rare in natural text
        digest = hashlib.blake2b(normalised[starts[i] : ends[i]], digest_size=8).digest()
        hashes[i] = int.from_bytes(digest, "little")
    return hashes, starts


def _window_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """sum(t[i+k] * B**(n-1-k)) for every window, by doubling: log2(n) multiply-adds per token."""
    count = len(tokens) - n + 1
    result: np.ndarray | None = None  # hash of the first `width` tokens of each window
    width, block, block_width = 0, tokens, 1
    while True:
        if n & block_width:
            part = block[width : width + count]
            if result is None:
                result = part.copy()
            else:
                result *= np.uint64(pow(_BASE, block_width, 2**64))
                result += part
            width += block_width
        if width == n:
            assert result is not None  # n >= 1, so some bit of n set it
            return result
        shifted = block[:-block_width] * np.uint64(pow(_BASE, block_width, 2**64))
        shifted += block[block_width:]
        block, block_width = shifted, 2 * block_width


def ngram_hashes(tokens: np.ndarray, n: int, groups: np.ndarray | None = None) -> np.ndarray:
    """Hashes of every run of ``n`` consecutive tokens that stays inside one group.

    Args:
        tokens: token hashes in text order.
        n: words per n-gram (1 returns the tokens).
        groups: a non-decreasing document number per token; n-grams spanning two
            documents are dropped.
    """
    if groups is not None:
        return grouped_ngrams(tokens, n, groups)[0]
    if len(tokens) < n:
        return np.zeros(0, np.uint64)
    return _window_hashes(tokens, n)


def grouped_ngrams(tokens: np.ndarray, n: int, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, group)`` of every n-gram that stays inside one group (see :func:`ngram_hashes`)."""
    count = len(tokens) - n + 1
    if count <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, groups.dtype)
    if groups[0] == groups[-1]:  # non-decreasing, so one group: every window stays inside it
        return _window_hashes(tokens, n), groups[:count]
    keep = groups[:count] == groups[n - 1 :]
    return _window_hashes(tokens, n)[keep], groups[:count][keep]


def text_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes of many texts in one flat buffer, and the text index of each word."""
    normalised = [normalise(text.encode("utf-8")) for text in texts]
    hashes, starts = token_hashes(b" ".join(normalised))
    ends = np.cumsum([len(b) + 1 for b in normalised])  # each text's end, its separator included
    return hashes, np.searchsorted(ends, starts, side="right").astype(np.int64)


def words(text: str) -> list[str]:
    """The normalised words of ``text`` (what the hashes are computed over)."""
    return normalise(text.encode("utf-8")).decode("utf-8", "replace").split()


def phrase_hashes(text: str, n: int) -> np.ndarray:
    """The n-gram hashes of a query string, computed exactly as for indexed text."""
    hashes, _ = token_hashes(normalise(text.encode("utf-8")))
    return ngram_hashes(hashes, n)
