"""Searching the curated refusal patterns (:mod:`credo.filters.vocabulary`) in a response head.

Every pattern is first person ("I can't help", "As an AI I don't") because text *about*
refusing ("the martyr refused to renounce her faith") and firm assertions in a worldview's
voice ("abortion is always wrong") are not refusals. Guards cancel a match that is an idiom
("I can't help but wonder", "I cannot stress enough"). Only the head of a response is
searched: a refusal declines up front, while a long answer may quote or discuss refusing.
"""

from __future__ import annotations

import importlib
import re
import re._constants as _c
import re._parser as _p
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    "may_match",
    "required",
]

_WORDS = re.compile(r"[a-z'’]+")
# ASCII characters outside _WORDS's class, mapped to a space: an ASCII head's _WORDS tokens
# are then its str.split() runs, faster than the regex (3.8 against 5.5 us a head: BENCHMARKS.md,
# "Refusal classifier speed"); the trigger test reads every head.
_SEPARATE = str.maketrans({c: " " for c in map(chr, range(128)) if not re.fullmatch(r"[a-z']", c)})


def _head_words(low: str) -> list[str]:
    """``_WORDS.findall(low)`` for lowercased text."""
    return low.translate(_SEPARATE).split() if low.isascii() else _WORDS.findall(low)


@dataclass(frozen=True)
class PatternHit:
    kind: str
    match: str


_FLAGS = re.IGNORECASE | re.MULTILINE
_COMPILED = {kind: [re.compile(p, _FLAGS) for p in pats] for kind, pats in PATTERNS.items()}
_GUARDS = [re.compile(p, _FLAGS) for p in GUARDS]
_FLAT = [(kind, pattern) for kind, compiled in _COMPILED.items() for pattern in compiled]
# Every pattern as one alternation: what the tests hold the prefilter against.
_ANY = re.compile("|".join(f"(?:{p})" for pats in PATTERNS.values() for p in pats), _FLAGS)


try:  # google-re2, optional (the ml extra); without it ``re`` reads every pattern
    _RE2: Any = importlib.import_module("re2")
except ImportError:
    _RE2 = None


class SearchSet:
    """Which of some ``re`` patterns have a match in a short normalised ASCII text: one RE2
    pass for all of them (google-re2, the ml extra) instead of a search each.

    On ASCII text whose only white space is " " (what :func:`credo.textnorm.normalize`
    leaves), RE2 and ``re`` agree on whether a pattern of literals, classes, ``\\w``,
    ``\\s``, ``\\b``, ``^``, ``$``, alternation and repeats has a match: RE2's ``\\w``
    and ``\\b`` are ASCII, its ``\\s`` lacks ``\\v`` and ``\\x1c``-``\\x1f`` (which
    such text holds none of), and case folding and non-ASCII literals differ only on
    non-ASCII text. What RE2 refuses (lookarounds, backreferences, possessive repeats) or
    could read otherwise (POSIX classes, ``{,n}``, other flags) leaves the whole set to ``re``.

    :meth:`matching` says None where that does not hold, and the caller asks ``re``. An RE2
    set reports no match, silently, when its DFA runs out of memory; a scan of n characters
    builds at most n + 1 states, far under the default memory for texts of
    :attr:`MAX_CHARS`."""

    MAX_CHARS = 2000

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.scan: Any = None
        if _RE2 is None or any(
            p.flags & ~(re.IGNORECASE | re.MULTILINE | re.UNICODE)
            or "[:" in p.pattern
            or "{," in p.pattern
            for p in patterns
        ):
            return
        scan = _RE2.Set.SearchSet()
        try:
            for p in patterns:
                flags = "i" * bool(p.flags & re.IGNORECASE) + "m" * bool(p.flags & re.MULTILINE)
                scan.Add(f"(?{flags})" + p.pattern if flags else p.pattern)
            scan.Compile()
        except _RE2.error:
            return
        self.scan = scan

    def matching(self, text: str) -> set[int] | None:
        """The numbers of the patterns with a match in ``text``, or None: ask ``re``."""
        if (
            self.scan is None
            or len(text) > self.MAX_CHARS
            or not text.isascii()
            or not text.isprintable()  # ASCII white space other than " " is not printable
        ):
            return None
        return set(self.scan.Match(text) or ())  # None when none matches


def _clauses(items: Any) -> list[frozenset[str]]:
    """What any match of the parsed pattern ``items`` must contain, as clauses that all hold,
    each a set of lowercase ASCII strings one of which occurs in the match. Conservative: a
    part it cannot read (classes, lookarounds, optional parts, non-ASCII literals, whose case
    folding reaches ASCII letters) requires nothing."""
    clauses: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        char = chr(av) if op is _c.LITERAL else ""
        if char and char.isascii():
            run += char.lower()
            continue
        if run:
            clauses.append(frozenset([run]))
            run = ""
        if op is _c.SUBPATTERN:
            clauses += _clauses(av[-1])
        elif op is _c.ATOMIC_GROUP:
            clauses += _clauses(av)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            clauses += _clauses(av[2])
        elif op is _c.BRANCH:
            options = [_clauses(alternative) for alternative in av[1]]
            if all(options):  # one clause per alternative: the most selective of each
                clauses.append(frozenset().union(*(max(o, key=_strength) for o in options)))
    if run:
        clauses.append(frozenset([run]))
    return clauses


def _strength(clause: frozenset[str]) -> int:
    return min(map(len, clause))


def _needs(pattern: str) -> tuple[frozenset[str], ...]:
    return tuple(_clauses(_p.parse(pattern, _FLAGS)))


def _possible(head: str) -> list[bool]:
    """Per pattern (in :data:`PATTERNS` order), False only when it cannot match ``head``.

    With google-re2, a normalised ASCII head is read once for every pattern
    (:class:`SearchSet`): exactly the patterns that match. Otherwise a head without a
    trigger word matches none, and on ASCII heads a pattern is ruled out when a string
    every match of it contains (:func:`required`) is absent. Each substring test scans the
    head, so there are few: the strings of every pattern's most selective clause are tested
    once for all patterns, and a pattern that passes its first clause tests its others
    (~20% cheaper than testing clause by clause)."""
    matching = _PATTERN_SET.matching(head)
    if matching is not None:
        return [i in matching for i in range(len(_FLAT))]
    low = head.lower()
    if TRIGGER_WORDS.isdisjoint(_head_words(low)):
        return _NONE
    if not head.isascii():  # case folding of other characters reaches ASCII letters
        return _ALL
    present = {s for s in _FIRST_STRINGS if s in low}
    return [
        not first.isdisjoint(present) and all(any(s in low for s in c) for c in rest)
        for first, rest in _FIRST_REST
    ]


def _may_match(head: str) -> bool:
    """False only when no pattern can match ``head`` (see :func:`_possible`)."""
    return any(_possible(head))


def _pruned(clause: frozenset[str]) -> frozenset[str]:
    """The clause without strings that hold another of its strings (they add no case)."""
    return frozenset(s for s in clause if not any(o != s and o in s for o in clause))


def required(pattern: str) -> tuple[frozenset[str], ...]:
    """What every match of the case-insensitive ``pattern`` contains: clauses (each a set of
    lowercase strings, one of which occurs), the most selective first."""
    return tuple(sorted(map(_pruned, _needs(pattern)), key=_strength, reverse=True))


def may_match(clauses: tuple[frozenset[str], ...], text: str) -> bool:
    """False only when no match of the pattern of ``clauses`` (:func:`required`) can be in
    ``text``; non-ASCII text is never ruled out."""
    if not text.isascii():
        return True
    low = text.lower()
    return all(any(s in low for s in clause) for clause in clauses)


_NEEDS = tuple(_needs(p) for pats in PATTERNS.values() for p in pats)
_ORDERED = tuple(required(p) for pats in PATTERNS.values() for p in pats)
# A pattern that requires nothing gets the clause {""}, which every head holds.
_FIRST_REST = tuple((needs[0], needs[1:]) if needs else (frozenset([""]), ()) for needs in _ORDERED)
_FIRST_STRINGS = tuple(sorted(set().union(*(first for first, _ in _FIRST_REST))))
_ALL = [True] * len(_NEEDS)
_NONE = [False] * len(_NEEDS)
_PATTERN_SET = SearchSet([pattern for _, pattern in _FLAT])


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
    possible = _ALL
    if prefilter:
        # Only the patterns that can match the head are run (with google-re2, only those
        # that do): ~10x cheaper than the combined pattern's scan, which tries ~35
        # alternatives at every word boundary, and than running every pattern on a head
        # one of them matches.
        possible = _possible(head)
        if not any(possible):
            return []
    guarded: list[tuple[int, int]] | None = None  # guard idioms, found at the first match
    hits: list[PatternHit] = []
    for (kind, pattern), may in zip(_FLAT, possible, strict=True):
        if not may:
            continue
        for m in pattern.finditer(head):
            if guarded is None:
                guarded = [g.span() for guard in _GUARDS for g in guard.finditer(head)]
            if any(s < m.end() and m.start() < e for s, e in guarded) or _quoted(head, m.start()):
                continue
            hits.append(PatternHit(kind, m.group(0)))
            break
    return hits


def has_refusal_cue(text: str, chars: int = 150) -> bool:
    """Whether the opening of ``text`` has a word that every known refusal opens with."""
    return not EMBED_CUE_WORDS.isdisjoint(_WORDS.findall(normalized_head(text, chars).lower()))
