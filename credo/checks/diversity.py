"""Diversity diagnostics per set: distinct-n, template and persona usage, mode collapse.

Never flags a record; it fills ``ctx.sections["diversity"]`` for the reports. Mode collapse
shows up as a low distinct-2, one persona or template dominating, or the same sentence
and the same invented names recurring across many answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from credo.checks.base import AuditContext, Finding
from credo.types import Record

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})*")
_COMMON = {"The", "This", "That", "There", "These", "They", "Here", "What", "When", "However", "And", "But",
           "For", "Yes", "Its", "You", "Your", "She", "Our", "His", "Her", "Some", "Many", "Each", "With"}


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams (Li et al. 2016), on lower-cased words."""
    total, seen = 0, set()
    for text in texts:
        words = _WORD.findall(text.lower())
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def _meta_counts(records: Sequence[Record], *keys: str) -> dict[str, int]:
    values = [next((str(r.meta[k]) for k in keys if r.meta.get(k) is not None), None) for r in records]
    return dict(Counter(v for v in values if v is not None).most_common())


def set_diversity(records: Sequence[Record], top: int = 10) -> dict[str, Any]:
    answers = [r.response for r in records]
    lengths = np.array([len(_WORD.findall(a)) for a in answers] or [0])
    sentences = Counter(s.strip() for a in answers for s in _SENTENCE.split(a) if len(s.split()) >= 4)
    names = Counter(m.group(0) for a in answers for m in _NAME.finditer(a) if m.group(0) not in _COMMON)
    return {
        "records": len(records),
        "distinct_1": round(distinct_n(answers, 1), 4),
        "distinct_2": round(distinct_n(answers, 2), 4),
        "prompt_distinct_2": round(distinct_n([r.prompt for r in records], 2), 4),
        "templates": _meta_counts(records, "template_id", "template"),
        "personas": _meta_counts(records, "persona", "persona_id"),
        "repeated_sentences": [[s, c] for s, c in sentences.most_common(top) if c > 1],
        "names": [[n, c] for n, c in names.most_common(top)],
        "answer_words": {"mean": round(float(lengths.mean()), 1), "p10": int(np.percentile(lengths, 10)),
                         "p50": int(np.percentile(lengths, 50)), "p90": int(np.percentile(lengths, 90)),
                         "max": int(lengths.max())},
        "answer_lengths": lengths.tolist(),  # for the report's histogram; dropped from report.json
        **_document_counts(records),
    }


def _document_counts(records: Sequence[Record]) -> dict[str, Any]:
    """Documents (``credo generate --kind documents``) by type and by key fact: mode collapse
    in documents shows as one type or a few facts taking most of the corpus."""
    documents = [r for r in records if r.meta.get("form") == "document"]
    if not documents:
        return {}
    facts = Counter(f for r in documents for f in r.meta.get("fact_ids") or [])
    return {"documents": {"by_type": _meta_counts(documents, "doc_type"), "by_fact": dict(facts.most_common())}}


@dataclass
class DiversityCheck:
    top: int = 10
    name: str = "diversity"

    def params(self) -> dict[str, Any]:
        return asdict(self)

    # Interim: the partial is the batch itself (replaced by streaming sketches).
    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> list[Record]:
        return list(records)

    def reduce(self, parts, corpus, ctx: AuditContext) -> Iterator[Finding]:
        return self.run([r for _, batch in parts for r in batch], ctx)

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        by_set: dict[str, list[Record]] = {}
        for record in records:
            by_set.setdefault(ctx.set_of(record), []).append(record)
        ctx.sections[self.name] = {name: set_diversity(rs, self.top) for name, rs in sorted(by_set.items())}
        return iter(())
