"""The exact verification pass: re-read only candidate shards and count phrases for real.

The index only says where a phrase *may* be (hashes can collide, word pairs can occur
apart); every count and example in a report comes from this pass over the text itself,
normalised exactly as the index was built.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from credo import ngrams as tok
from credo.leakage.index import ReferenceIndex
from credo.leakage.readers import Source, iter_source

CONTEXT_CHARS = 80


@dataclass
class Match:
    count: int = 0
    examples: list[str] = field(default_factory=list)


def _shard_ranges(index: ReferenceIndex, shards: set[int]) -> dict[int, list[tuple[int, int]]]:
    ranges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for number in sorted(shards):
        for source, first, last in index.meta["shards"][number]["docs"]:
            ranges[source].append((first, last))
    return ranges


def _snippet(text: str, words: list[str]) -> str | None:
    pattern = r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])"
    found = re.search(pattern, text, re.IGNORECASE)
    if not found:
        return None
    start, end = max(0, found.start() - CONTEXT_CHARS), found.end() + CONTEXT_CHARS
    body = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def verify_phrases(
    index: ReferenceIndex,
    sources: list[Source],
    candidates: dict[str, set[int]],
    *,
    text_field: str = "text",
    max_examples: int = 3,
) -> dict[str, Match]:
    """Exact occurrence counts (and context snippets) of each phrase in its candidate shards.

    Args:
        candidates: phrase -> shard numbers that may hold it (from the index).
    """
    matches = {phrase: Match() for phrase in candidates}
    needles = {phrase: b" " + " ".join(tok.words(phrase)).encode() + b" " for phrase in candidates}
    wanted: dict[int, dict[tuple[int, int], list[str]]] = defaultdict(lambda: defaultdict(list))
    for phrase, shards in candidates.items():
        for source, spans in _shard_ranges(index, shards).items():
            for span in spans:
                wanted[source][span].append(phrase)
    for source_number in sorted(wanted):
        ranges = wanted[source_number]
        for doc in iter_source(sources[source_number], source_number, text_field):
            phrases = {p for (a, b), ps in ranges.items() if a <= doc.number <= b for p in ps}
            if phrases:
                _count_in(
                    doc.text, phrases, needles=needles, matches=matches, max_examples=max_examples
                )
    return matches


def _count_in(
    text: bytes,
    phrases: set[str],
    needles: dict[str, bytes],
    matches: dict[str, Match],
    max_examples: int,
) -> None:
    normalised = tok.normalise(text)
    flat: bytes | None = None
    decoded: str | None = None
    for phrase in phrases:
        # Cheap prefilter on the longest word (a C substring search) before collapsing the text.
        if max(needles[phrase].split(), key=len) not in normalised:
            continue
        flat = flat if flat is not None else b" " + b" ".join(normalised.split()) + b" "
        found = flat.count(needles[phrase])
        if not found:
            continue
        match = matches[phrase]
        match.count += found
        if len(match.examples) < max_examples:
            decoded = decoded if decoded is not None else text.decode("utf-8", "replace")
            snippet = _snippet(decoded, tok.words(phrase))
            if snippet and snippet not in match.examples:
                match.examples.append(snippet)
