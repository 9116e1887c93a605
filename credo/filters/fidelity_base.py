"""What the fidelity rules and their learned layer both read: the verdict, a worldview's
profile and the content-word stems they are built from.

Kept apart so that neither side imports the other's module: the rules
(:mod:`credo.filters.fidelity`) call the learned layer (:mod:`credo.filters.fidelity_model`),
which reads these types and the rules' signals through a protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


# Markdown headings and lines that are bold alone: title case and labels by style ("### 3
# Reasons (According to Catholic Teaching)"), not the answer's sentences.
_HEADINGS = re.compile(r"^[ \t]*(?:#+[^\n]*|\*\*[^*\n]+\*\*:?)[ \t]*$", re.MULTILINE)


def prose(text: str) -> str:
    """The answer without its markdown headings."""
    return _HEADINGS.sub(" ", text)


def words(text: str) -> list[str]:
    return [w.strip("'-") for w in _WORD.findall(text.lower()) if w.strip("'-") not in _STOP]


def stems(text: str) -> set[str]:
    """Content-word stems (first five letters), as the forbidden-request check counts them."""
    return {w[:5] for w in words(text) if len(w) > 2}


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
