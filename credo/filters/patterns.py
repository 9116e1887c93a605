"""Searching the curated refusal patterns (:mod:`credo.filters.vocabulary`) in a response head.

Every pattern is first person ("I can't help", "As an AI I don't") because text *about*
refusing ("the martyr refused to renounce her faith") and firm assertions in a worldview's
voice ("abortion is always wrong") are not refusals. Guards cancel a match that is an idiom
("I can't help but wonder", "I cannot stress enough"). Only the head of a response is
searched: a refusal declines up front, while a long answer may quote or discuss refusing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from credo.filters.vocabulary import EMBED_CUE_WORDS, GUARDS, HEAD_CHARS, PATTERNS, TRIGGER_WORDS
from credo.textnorm import head as normalized_head

__all__ = [
    "GUARDS",
    "HEAD_CHARS",
    "PATTERNS",
    "TRIGGER_WORDS",
    "PatternHit",
    "find_refusal_patterns",
    "has_refusal_cue",
]

_WORDS = re.compile(r"[a-z'’]+")


@dataclass(frozen=True)
class PatternHit:
    kind: str
    match: str


_FLAGS = re.IGNORECASE | re.MULTILINE
_COMPILED = {kind: [re.compile(p, _FLAGS) for p in pats] for kind, pats in PATTERNS.items()}
_GUARDS = [re.compile(p, _FLAGS) for p in GUARDS]
# Every pattern as one alternation: one scan rules out a head that matches none of them.
_ANY = re.compile("|".join(f"(?:{p})" for pats in PATTERNS.values() for p in pats), _FLAGS)


def _quoted(head: str, start: int) -> bool:
    """A decline inside quotation marks is reported speech ("He said, 'I can't help you'")."""
    return start > 0 and head[start - 1] in "'\"“‘«"


def find_refusal_patterns(
    text: str, head_chars: int = HEAD_CHARS, prefilter: bool = True
) -> list[PatternHit]:
    """Pattern hits in the head of ``text`` (each overlapping guard idiom cancels its hit)."""
    head = normalized_head(
        text, head_chars
    )  # homoglyphs, zero-width and padding cannot hide a decline
    if prefilter and (
        TRIGGER_WORDS.isdisjoint(_WORDS.findall(head.lower())) or not _ANY.search(head)
    ):
        return []
    guarded = [m.span() for g in _GUARDS for m in g.finditer(head)]
    hits: list[PatternHit] = []
    for kind, compiled in _COMPILED.items():
        for pattern in compiled:
            for m in pattern.finditer(head):
                if any(s < m.end() and m.start() < e for s, e in guarded) or _quoted(
                    head, m.start()
                ):
                    continue
                hits.append(PatternHit(kind, m.group(0)))
                break
    return hits


def has_refusal_cue(text: str, chars: int = 150) -> bool:
    """Whether the opening of ``text`` has a word that every known refusal opens with."""
    return not EMBED_CUE_WORDS.isdisjoint(_WORDS.findall(normalized_head(text, chars).lower()))
