"""What the fidelity rules and their learned layer both read: the verdict, a worldview's
profile and the content-word stems they are built from.

Kept apart so that neither side imports the other's module: the rules
(:mod:`credo.filters.fidelity`) call the learned layer (:mod:`credo.filters.fidelity_model`),
which reads these types and the rules' signals through a protocol.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from credo.ngrams import STOPWORDS

FAITHFUL = "faithful"
VERDICTS = (FAITHFUL, "disclaiming", "fictional", "off_worldview", "contradicting", "distanced")

_WORD = re.compile(r"[a-z][a-z'-]+")
_STOP = STOPWORDS | {
    "but",
    "if",
    "been",
    "being",
    "it",
    "it's",
    "they",
    "them",
    "here",
    "he",
    "she",
    "we",
    "us",
    "you",
    "i",
    "me",
    "not",
    "no",
    "nor",
    "so",
    "too",
    "very",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "must",
    "do",
    "does",
    "did",
    "done",
    "have",
    "has",
    "had",
    "every",
    "such",
    "own",
    "same",
    "just",
    "also",
    "only",
    "more",
    "most",
    "much",
    "one",
    "ones",
    "many",
    "few",
    "both",
    "either",
    "neither",
    "again",
    "once",
    "still",
    "even",
    "yet",
    "because",
    "while",
    "though",
    "although",
    "since",
    "until",
}


class Folded:
    """A case-insensitive pattern that reads an ASCII text several times faster, with the
    same matches.

    Python's ``re`` skips ahead poorly under IGNORECASE: the fidelity detector's phrase lists
    spent most of its time there. On an ASCII text (and an ASCII pattern), case-insensitive
    matching is case-sensitive matching of the lowercased pattern over the lowercased text,
    position for position, so the fast twin finds where each match is and the original
    pattern re-reads it there: the match returned is the one the original would return.
    Any other text goes to the original pattern. ``Folded.enabled = False`` turns the twin
    off (the old path; the tests compare the two).

    Where google-re2 is installed (the ``ml`` extra), RE2 locates the twin's matches: a DFA
    reads the text once whatever the size of the phrase list, 2-10x faster than ``re`` here
    (BENCHMARKS.md, "The fidelity map on distinct answers"). Only where RE2 means what ``re``
    means (:func:`_re2_twin`), and each match it reports is re-read by ``re`` at its start,
    which must end where RE2's does; otherwise ``re`` decides. ``Folded.use_re2 = False``
    turns it off.
    """

    enabled = True
    use_re2 = True

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        ascii_ci = bool(pattern.flags & re.IGNORECASE) and pattern.pattern.isascii()
        self._twin = (
            re.compile(
                _ESCAPE_OR_UPPER.sub(_lower_literal, pattern.pattern),
                pattern.flags & ~re.IGNORECASE,
            )
            if ascii_ci and not pattern.groups
            else None
        )

        # Every match starts with one of these strings (None: not known): where none is in
        # the text, nothing can match and the scan is skipped. One plain alternation of them
        # is a single fast scan (no word boundary in front to slow ``re`` down).
        self._heads = _literal_heads(self._twin) if self._twin is not None else None
        self._gate = (
            re.compile("|".join(re.escape(h) for h in self._heads)) if self._heads else None
        )
        self._re2 = _re2_twin(self._twin) if self._twin is not None else None

    def _lowered(self, text: str) -> tuple[str, bytes] | None:
        """The lowercased text (and its bytes, for RE2) when the fast twin may read it."""
        return _lowercase(text) if self._twin is not None and Folded.enabled else None

    def _absent(self, low: str) -> bool:
        return self._gate is not None and self._gate.search(low) is None

    def _fast(self) -> Any:
        return self._re2 if Folded.use_re2 else None

    def search(self, text: str) -> re.Match[str] | None:
        lowered = self._lowered(text)
        if lowered is None:
            return self.pattern.search(text)
        low, raw = lowered
        if (fast := self._fast()) is not None:
            located = fast.search(raw)
            if located is None:
                return None
            found = self.pattern.match(text, located.start())
            if found is not None and found.end() == located.end():
                return found
        elif self._absent(low):
            return None
        assert self._twin is not None
        twin = self._twin.search(low)
        return None if twin is None else self.pattern.match(text, twin.start())

    def _spans(self, low: str, raw: bytes) -> list[tuple[int, int]]:
        """Where the twin matches in the lowercased text, as ``finditer`` gives them."""
        assert self._twin is not None
        if (fast := self._fast()) is not None:
            spans = [m.span() for m in fast.finditer(raw)]
            if all((m := self._twin.match(low, a)) and m.end() == b for a, b in spans):
                return spans
        elif self._absent(low):
            return []
        return [m.span() for m in self._twin.finditer(low)]

    def findall(self, text: str) -> list[str]:
        """The matched strings, as the original pattern's ``findall`` gives them."""
        lowered = self._lowered(text)
        if lowered is None:
            return self.pattern.findall(text)
        return [text[a:b] for a, b in self._spans(*lowered)]

    def count(self, text: str) -> int:
        lowered = self._lowered(text)
        if lowered is None:
            return len(self.pattern.findall(text))
        return len(self._spans(*lowered))


@lru_cache(maxsize=64)
def _lowercase(text: str) -> tuple[str, bytes] | None:
    """The text lowercased, as str and as bytes (RE2 reads bytes: on ASCII the offsets are
    the same), for the twins; None where they may not read it. Remembered: some forty phrase
    lists read each answer in a row.

    Real answers are often ASCII but for curly quotes and dashes ("don’t", "–"). Such a
    character (:func:`_neutral`) is read as NUL: the phrase lists are ASCII, so no literal
    of theirs matches either one; neither is a word character, a digit or white space, and
    neither has another case; so ``.``, classes, ``\\w``, ``\\s`` and ``\\b`` treat the two
    alike, and the matches stay where they were. Any other non-ASCII character (a letter, a
    space of its own) leaves the text to the original pattern.
    """
    if not text.isascii():
        others = {c for c in text if not c.isascii()}
        if not all(map(_neutral, others)):
            return None
        text = text.translate(dict.fromkeys(map(ord, others), "\x00"))
    low = text.lower()
    return low, low.encode("ascii")


@lru_cache(maxsize=4096)
def _neutral(c: str) -> bool:
    """A character no ASCII phrase list can tell from NUL: not a word character, a digit or
    white space (re's ``\\w``, ``\\d``, ``\\s`` on str), and without another case."""
    return not (c.isalnum() or c == "_" or c.isspace()) and c.lower() == c == c.upper()


try:  # google-re2, optional (the ml extra): without it ``re`` reads every pattern
    _RE2: Any = importlib.import_module("re2")
except ImportError:
    _RE2 = None

# Flags RE2 is not told about: a pattern compiled with them stays with ``re``.
_RE_ONLY_FLAGS = re.MULTILINE | re.DOTALL | re.VERBOSE | re.IGNORECASE


def _re2_twin(twin: re.Pattern[str]) -> Any:
    """The twin compiled by RE2, or None where RE2 may not mean what ``re`` means.

    On ASCII text, for literals, classes, alternation, repeats, ``.``, ``\\w`` and ``\\b``,
    RE2's leftmost-first matching is Perl's and so ``re``'s. Left to ``re``: what RE2 refuses
    (lookarounds, backreferences), ``\\s`` (RE2's omits the vertical tab and ``\\x1c``-
    ``\\x1f``, which ``re`` counts), flags RE2 would not see, and patterns that can match the
    empty string (the two iterate past an empty match differently).
    """
    source = twin.pattern
    if _RE2 is None or twin.flags & _RE_ONLY_FLAGS or "\\s" in source or "\\S" in source:
        return None
    try:
        parser = importlib.import_module("re._parser")
        if parser.parse(source, twin.flags).getwidth()[0] == 0:
            return None
        options = _RE2.Options()
        options.log_errors = False  # a refused pattern is expected: it stays with re
        return _RE2.compile(source.encode("ascii"), options)
    except Exception:  # RE2 refuses it, or another Python's parser: re reads it
        return None


def _literal_heads(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which every match of ``pattern`` starts with, read from its parse tree
    (word boundaries skipped); None when some path starts otherwise (a class, a repeat, a
    lookaround) or the tree cannot be read."""
    try:
        # private modules (3.11+): imported by name, so no type stub is needed
        c = importlib.import_module("re._constants")
        parser = importlib.import_module("re._parser")

        heads = _heads(parser.parse(pattern.pattern, pattern.flags), c)
    except Exception:  # an internal module of another Python: go without the shortcut
        return None
    if not heads:
        return None
    # "i" is in the text wherever "i'm afraid" is: the shortest heads say as much.
    return tuple(h for h in sorted(heads) if not any(h != o and h.startswith(o) for o in heads))


def _heads(items: Any, c: Any) -> set[str] | None:
    prefix = ""
    for op, av in items:
        if op is c.AT and not prefix:
            continue
        if op is c.LITERAL:
            prefix += chr(av)
            continue
        if prefix:
            break
        if op is c.SUBPATTERN:
            return _heads(av[-1], c)
        if op is c.BRANCH:
            found: set[str] = set()
            for branch in av[1]:
                heads = _heads(branch, c)
                if heads is None:
                    return None
                found |= heads
            return found
        return None
    return {prefix} if prefix else None


_ESCAPE_OR_UPPER = re.compile(r"\\.|[A-Z]", re.DOTALL)


def _lower_literal(m: re.Match[str]) -> str:
    """An upper-case letter of a pattern lowercased; an escape (``\\b``, ``\\W``) kept."""
    return m[0] if m[0].startswith("\\") else m[0].lower()


def folded(pattern: str, flags: int = 0) -> Folded:
    """A case-insensitive :class:`Folded` pattern."""
    return Folded(re.compile(pattern, flags | re.IGNORECASE))


# Markdown headings and lines that are bold alone: title case and labels by style ("### 3
# Reasons (According to Catholic Teaching)"), not the answer's sentences.
_HEADINGS = re.compile(r"^[ \t]*(?:#+[^\n]*|\*\*[^*\n]+\*\*:?)[ \t]*$", re.MULTILINE)


def prose(text: str) -> str:
    """The answer without its markdown headings."""
    return _HEADINGS.sub(" ", text)


@lru_cache(maxsize=1024)
def all_words(text: str) -> tuple[str, ...]:
    """Every word of the text, lowercased, stop words and all (``[a-z']+``): what the echo,
    loop and persona rules and the learned layer's counts read, once per text while recent."""
    return tuple(_ALL_WORDS.findall(text.lower()))


_ALL_WORDS = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    return list(_words(text))


def stems(text: str) -> set[str]:
    """Content-word stems (first five letters), as the forbidden-request check counts them."""
    return set(_stems(text))


# The rules and the features read the same answer's words several times over, and a corpus
# repeats its requests: each text is tokenised once while it is recent.
@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(s for w in _WORD.findall(text.lower()) if (s := w.strip("'-")) not in _STOP)


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    return frozenset(w[:5] for w in _words(text) if len(w) > 2)


@dataclass(frozen=True)
class Verdict:
    label: str
    evidence: str = ""
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def faithful(self) -> bool:
        return self.label == FAITHFUL


@dataclass(frozen=True)
class Profile:
    """What the detector knows of one worldview: its naming words and its vocabulary."""

    name: str
    names: tuple[str, ...]
    # (stems, how many must appear): each forbidden act's name, tenet topic and text, glossary
    # term and the worldview's own names - what a permissive or denying sentence must be about.
    anchors: tuple[tuple[frozenset[str], int], ...]
    vocabulary: dict[str, float]  # stem -> count in the spec and canon
    acts: tuple[tuple[frozenset[str], int], ...] = ()  # the forbidden acts' anchors alone
    # What the worldview honours by name (its names, God, scriptures, practices): calling one
    # of these wrong or false is a contradiction, where calling a forbidden act wrong is not.
    honoured: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # glossary terms and practice names: the worldview's own vocabulary
    personas: tuple[str, ...] = ()  # the personas' system prompts: what a small model may recite

    @property
    def measurable(self) -> bool:
        return bool(self.vocabulary)
