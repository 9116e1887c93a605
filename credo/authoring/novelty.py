"""Novelty of an authored worldview: its terms through the leakage check, with renames.

A term that collides with reference text (and is not marked ``allow_collision``) gets rename
suggestions: spelling variants of its most distinctive word that are still coined (not in
the dictionary) and do not occur in the same reference, closest spelling first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from credo.leakage.check import SHIPPED_REFERENCE, leakage_section, term_rows
from credo.leakage.index import IndexConfig, open_index
from credo.leakage.readers import resolve_sources
from credo.leakage.terms import SHIPPED_TEXT, Term, dictionary, is_coined
from credo.ngrams import words

REFERENCE_ENV = "CREDO_REFERENCE"  # os.pathsep-separated reference paths
VOWELS = "aeiouy"
SUFFIXES = ("en", "ar", "ix", "wyn", "ove", "ith", "ane")


@dataclass
class Collision:
    term: str
    count: int
    example: str
    suggestions: list[str] = field(default_factory=list)


def configured_references(given: list[str] | None) -> list[str]:
    """``--reference`` values, else ``$CREDO_REFERENCE``, else none (novelty is skipped)."""
    if given:
        return given
    env = os.environ.get(REFERENCE_ENV, "")
    return [p for p in env.split(os.pathsep) if p]


def spelling_variants(word: str) -> list[str]:
    """Deterministic respellings: one vowel changed, or the ending swapped."""
    variants = []
    for i, char in enumerate(word):
        if char in VOWELS and i > 0:
            variants += [word[:i] + v + word[i + 1 :] for v in VOWELS if v != char]
    stem = word.rstrip(VOWELS)[:-1] if len(word) > 5 else word
    variants += [stem + suffix for suffix in SUFFIXES]
    return list(dict.fromkeys(v for v in variants if v != word))


def suggest_renames(term: str, index, sources, limit: int = 3) -> list[str]:
    known = dictionary()
    tokens = words(term)
    if not tokens:
        return []
    target = max(tokens, key=len)
    candidates = [v for v in spelling_variants(target) if is_coined(v, known)]
    rows = term_rows(
        index, sources, [Term(v, "word") for v in candidates], text_field="text", min_count=1
    )
    free = [row["term"] for row in rows if row["verdict"] == "novel"]
    renamed = []
    for word in free[:limit]:
        respelled = " ".join(word.capitalize() if t == target else t for t in term.split())
        renamed.append(
            respelled.replace(target.capitalize(), word.capitalize()).replace(target, word)
        )
    return renamed


def check_novelty(spec: str | Path, references: list[str]) -> list[Collision]:
    """Colliding, not-allowed terms of the spec with rename suggestions."""
    section = leakage_section(spec, references)
    paths = [SHIPPED_TEXT if str(r) == SHIPPED_REFERENCE else r for r in references]
    sources = resolve_sources(list(paths))
    index = open_index(sources, IndexConfig())  # cached by the call above
    collisions = []
    for row in section["terms"]:
        if row["verdict"] == "collides" and not row["allowed"]:
            example = row["examples"][0] if row["examples"] else ""
            collisions.append(
                Collision(
                    row["term"],
                    row["count"],
                    str(example)[:160],
                    suggest_renames(row["term"], index, sources),
                )
            )
    return collisions


def novelty_findings(wv, references: list[str]) -> list:
    """Collisions as lint findings at the glossary line of the term (or the glossary)."""
    from credo.authoring.lint import _Locator

    loc = _Locator(wv)
    index_of = {g.term.lower(): i for i, g in enumerate(wv.spec.glossary)}
    findings = []
    for hit in check_novelty(wv.root, references):
        where = (
            ("glossary", index_of[hit.term.lower()], "term")
            if hit.term.lower() in index_of
            else ("glossary",)
        )
        renames = f"; try {', '.join(hit.suggestions)}" if hit.suggestions else ""
        findings.append(
            loc.spec(
                "term_collides",
                where,
                f"'{hit.term}' occurs {hit.count}x in the reference (e.g. {hit.example[:80]!r}) - "
                f"rename it or set allow_collision: true{renames}",
            )
        )
    return findings
