"""Which words and phrases of a worldview are distinctive enough to check for leakage.

Rows come from the spec's names, glossary, practice names, forbidden-act names and the
capitalised phrases of its tenets and canon that contain a coined word. A word is *coined*
(invented) when it is not in the shipped dictionary (SCOWL word list + the shipped
reference text). Multi-word terms also get one row per coined word, so "Saint Hannah
Seedwell" is checked as a phrase and "seedwell" on its own.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from credo.ngrams import words
from credo.worldviews.loader import LoadedWorldview

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"
WORD_LIST = REFERENCE_DIR / "words.txt.gz"
SHIPPED_TEXT = REFERENCE_DIR / "python-docs.jsonl.gz"
# Runs of capitalised words, allowing lower-case joiners: "Circles of the Blade".
_CAPITALISED = re.compile(
    r"\b[A-Z][\w'’-]*(?:[ \t]+(?:(?:of|the|by|through|and)[ \t]+)*[A-Z][\w'’-]*)*"
)
# Capitalised only because they open a sentence: dropped from the front of a phrase.
_OPENERS = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "so",
        "because",
        "that",
        "this",
        "these",
        "those",
        "and",
        "but",
        "or",
        "when",
        "if",
        "as",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "by",
        "from",
        "then",
        "thus",
        "yet",
        "why",
        "how",
        "what",
        "who",
        "where",
        "it",
        "we",
        "our",
        "his",
        "her",
        "their",
        "they",
        "he",
        "she",
        "you",
        "your",
        "my",
        "every",
        "each",
        "all",
        "no",
        "not",
        "do",
        "does",
        "may",
    ]
)


@dataclass
class Term:
    text: str
    kind: str  # name | glossary | practice | act | phrase | word
    sources: list[str] = field(default_factory=list)
    allowed: bool = False

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(words(self.text))


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str]:
    """Lower-case dictionary words: the SCOWL list plus every word of the shipped text."""
    with gzip.open(WORD_LIST, "rt", encoding="utf-8") as handle:
        known = {line.strip() for line in handle if line.strip()}
    with gzip.open(SHIPPED_TEXT, "rt", encoding="utf-8") as handle:
        for line in handle:
            known.update(words(json.loads(line)["text"]))
    return frozenset(known)


def is_coined(word: str, known: frozenset[str]) -> bool:
    return len(word) >= 4 and not word.isdigit() and word not in known


def _phrases(text: str, known: frozenset[str]) -> list[str]:
    found = []
    for match in _CAPITALISED.finditer(text):
        parts = match.group(0).strip("'’-").split()
        while parts and parts[0].lower() in _OPENERS:
            parts.pop(0)
        phrase = " ".join(parts)
        if len(words(phrase)) > 1 and any(is_coined(w, known) for w in words(phrase)):
            found.append(phrase)
    return found


def _raw_terms(wv: LoadedWorldview, known: frozenset[str]) -> list[Term]:
    spec = wv.spec
    rows = [
        Term(n, "name", [f"names: {n}"])
        for n in [spec.display_name, *spec.names, spec.adherents]
        if n
    ]
    rows += [
        Term(g.term, "glossary", [f"glossary: {g.term}"], g.allow_collision) for g in spec.glossary
    ]
    rows += [Term(p.name, "practice", [f"practices.{p.id}"]) for p in spec.practices]
    for act in spec.forbidden_acts:  # act names are plain descriptions: only coined words count
        rows += [
            Term(w, "word", [f"forbidden_acts.{act.id}"])
            for w in words(act.name)
            if is_coined(w, known)
        ]
    texts = [(f"tenets.{t.id}", t.text) for t in spec.tenets] + [
        (f"canon.{k}", v) for k, v in wv.canon.items()
    ]
    for where, text in texts:
        rows += [Term(p, "phrase", [where]) for p in _phrases(text, known)]
    return rows


def distinctive_terms(wv: LoadedWorldview, known: frozenset[str] | None = None) -> list[Term]:
    """De-duplicated term rows (whole terms first, then their coined words)."""
    known = dictionary() if known is None else known
    allowed_words = {w for g in wv.spec.glossary if g.allow_collision for w in words(g.term)}
    allowed_terms = {tuple(words(g.term)) for g in wv.spec.glossary if g.allow_collision}
    merged: dict[tuple[str, ...], Term] = {}
    for term in _raw_terms(wv, known):
        parts = [term] + [
            Term(w, "word", [f"word of '{term.text}'"])
            for w in term.key
            if len(term.key) > 1 and is_coined(w, known)
        ]
        for row in parts:
            if not row.key:
                continue
            row.allowed = (
                row.allowed
                or row.key in allowed_terms
                or (len(row.key) == 1 and row.key[0] in allowed_words)
            )
            if row.key in merged:
                kept = merged[row.key]
                kept.sources += [s for s in row.sources if s not in kept.sources]
                kept.allowed = kept.allowed or row.allowed
            else:
                merged[row.key] = row
    return list(merged.values())
