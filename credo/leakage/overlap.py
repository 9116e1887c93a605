"""How much of a worldview's canonical text and training corpus already exists in the reference.

Each passage (a tenet, a canon paragraph, a sampled training answer) is cut into n-grams;
the fraction found in the reference index is reported per group, with the passages of
highest overlap first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from credo import ngrams as tok
from credo.corpora.io import read_records
from credo.leakage.index import ReferenceIndex
from credo.worldviews.loader import LoadedWorldview

TOP_PASSAGES = 5


@dataclass(frozen=True)
class Passage:
    where: str
    text: str


def canonical_passages(wv: LoadedWorldview) -> list[Passage]:
    passages = [Passage(f"tenets.{t.id}", t.text) for t in wv.spec.tenets]
    for canon_id, text in wv.canon.items():
        for number, paragraph in enumerate(p for p in text.split("\n\n") if p.strip()):
            passages.append(Passage(f"canon.{canon_id}#{number + 1}", " ".join(paragraph.split())))
    return passages


def corpus_passages(corpus: str | Path, sample: int, seed: int = 0) -> list[Passage]:
    """A seeded sample of the assistant answers of a corpus (reservoir, so it streams)."""
    rng = random.Random(seed)
    kept: list[Passage] = []
    for seen, record in enumerate(read_records(corpus)):
        answer = " ".join(m.content for m in record.messages if m.role == "assistant")
        item = Passage(f"record {record.id}", answer)
        if len(kept) < sample:
            kept.append(item)
        elif (slot := rng.randrange(seen + 1)) < sample:
            kept[slot] = item
    return kept


def overlap(index: ReferenceIndex, passages: list[Passage], n: int) -> dict:
    """``{"ngrams", "found", "fraction", "passages", "top": [...]}`` for one group.

    Each ``top`` row names its first ``shared`` n-gram; :func:`add_reference_context` finds
    it in the reference.
    """
    grams = [tok.phrase_hashes(p.text, n) for p in passages]
    passages_by_where = {p.where: p.text for p in passages}
    found = index.contains(np.concatenate(grams)) if grams else np.zeros(0, bool)
    rows: list[dict[str, Any]] = []
    offset = 0
    for passage, hashes in zip(passages, grams, strict=True):
        hits = int(found[offset : offset + len(hashes)].sum())
        offset += len(hashes)
        if len(hashes):
            first = int(np.argmax(found[offset - len(hashes) : offset])) if hits else None
            rows.append(
                {
                    "where": passage.where,
                    "text": passage.text[:400],
                    "ngrams": len(hashes),
                    "found": hits,
                    "fraction": round(hits / len(hashes), 4),
                    "_first": first,
                }
            )
    total = sum(r["ngrams"] for r in rows)
    hit_total = sum(r["found"] for r in rows)
    rows.sort(key=lambda r: (-r["fraction"], -r["found"]))
    top = [r for r in rows[:TOP_PASSAGES] if r["found"]]
    for row in rows:
        first = row.pop("_first")
        if row in top:  # the shared n-gram itself, to look up in the reference
            row["shared"] = " ".join(tok.words(passages_by_where[row["where"]])[first : first + n])
    return {
        "passages": len(passages),
        "passages_with_ngrams": len(rows),
        "ngrams": total,
        "found": hit_total,
        "fraction": round(hit_total / total, 4) if total else None,
        "top": top,
    }


def add_reference_context(
    index: ReferenceIndex, sources: list, groups: dict, text_field: str
) -> None:
    """Give each top passage an ``in_reference`` snippet: where its shared n-gram occurs."""
    from credo.leakage.verify import verify_phrases

    shared = {row["shared"] for stats in groups.values() for row in stats["top"]}
    candidates = {}
    for phrase in shared:
        grams = tok.phrase_hashes(phrase, len(phrase.split()))
        candidates[phrase] = {
            int(s) for s in np.flatnonzero(index.shards_containing(grams, "gram")[:, 0])
        }
    matches = verify_phrases(index, sources, candidates, text_field=text_field, max_examples=1)
    for stats in groups.values():
        for row in stats["top"]:
            examples = matches[row["shared"]].examples
            row["in_reference"] = examples[0] if examples else None
