"""Recall of the fast embedding path (static candidates, MiniLM confirms) against MiniLM-only.

    nice -n 19 .venv/bin/python bench/audit_fast.py 1000

Three measures, each "of what MiniLM alone decides, how much the fast path also decides":
semantic duplicates on a synthetic corpus with planted paraphrases, eval contamination
(findings at every severity) against the Gramenism eval set plus planted eval paraphrases,
and refusal decisions on the real model outputs in ``../shared/real-outputs`` (skipped when
absent). Also the static model's encoding speed against MiniLM's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from audit_synth import gramenism_evals, make_corpus
from fast_synth import plant_paraphrases

from credo.filters.base import AuditContext, EvalItem
from credo.filters.contamination import ContaminationConfig, EvalContaminationCheck
from credo.filters.dedup import SemanticConfig, SemanticDuplicateCheck
from credo.filters.embed import Embedder, StaticEmbedder
from credo.filters.refusal import RefusalCheck
from credo.filters.refusal_detector import RefusalConfig
from credo.types import Message, Record

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-outputs"


def recall(fast: set, full: set) -> float:
    return round(len(fast & full) / len(full), 4) if full else 1.0


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 2)


def main(n: int, refusal_only: bool = False) -> dict:
    evals = gramenism_evals()
    raw, _ = make_corpus(n, evals)
    plant_paraphrases(raw, evals, rate=0.05)
    records = [Record.from_json(r) for r in raw]
    eval_items = [EvalItem(f"ev{i}", text) for i, text in enumerate(evals)]
    embedder, static = Embedder(), StaticEmbedder()
    out: dict = {"records": len(records)}

    texts = [r.prompt for r in records[:2000]]
    static.encode(texts[:10])
    _, secs = timed(lambda: static.encode(texts))
    out["static_texts_per_s"] = round(len(texts) / secs)

    if refusal_only:
        return {**out, **real_refusals(embedder, static)}

    def semantic(fast: bool, threshold: float = SemanticConfig.candidate_threshold) -> set:
        ctx = AuditContext(embedder=embedder, static=static)
        check = SemanticDuplicateCheck(SemanticConfig(fast=fast, candidate_threshold=threshold))
        found = {(f.details["kept"], f.record_id) for f in check.run(records, ctx)}
        candidates[threshold] = ctx.sections["semantic_duplicate"]["params"]["candidate_pairs"]
        return found

    candidates: dict = {}
    full, out["semantic_minilm_s"] = timed(lambda: semantic(False))
    out["semantic"] = {"minilm_pairs": len(full), "by_candidate_threshold": {}}
    for threshold in (0.8, 0.85, 0.9, 0.93):  # recall does not depend on the cache: reuse it
        fast = semantic(True, threshold)
        out["semantic"]["by_candidate_threshold"][threshold] = {
            "fast_pairs": len(fast),
            "candidates": candidates[threshold],
            "recall": recall(fast, full),
        }
    embedder = Embedder(
        model=embedder.model
    )  # a fresh cache: the fast path pays for what it encodes
    _, out["semantic_fast_s"] = timed(lambda: semantic(True))

    def contamination(fast: bool, floor: float = ContaminationConfig.candidate_cosine) -> set:
        ctx = AuditContext(evals=eval_items, embedder=embedder, static=static)
        check = EvalContaminationCheck(ContaminationConfig(fast=fast, candidate_cosine=floor))
        return {(f.record_id, f.details["severity"]) for f in check.run(records, ctx)}

    full, out["contamination_minilm_s"] = timed(lambda: contamination(False))
    out["contamination"] = {"minilm_findings": len(full), "by_candidate_cosine": {}}
    for floor in (0.5, 0.6, 0.7):
        fast = contamination(True, floor)
        out["contamination"]["by_candidate_cosine"][floor] = {
            "fast_findings": len(fast),
            "recall": recall(fast, full),
        }
    embedder = Embedder(model=embedder.model)
    _, out["contamination_fast_s"] = timed(lambda: contamination(True))

    out.update(real_refusals(embedder, static))
    return out


def real_refusals(embedder: Embedder, static: StaticEmbedder) -> dict:
    """Refusal decisions on the real outputs: MiniLM alone against the fast path."""
    out: dict = {}
    if not REAL.is_dir():
        return out
    rows = [
        json.loads(line)
        for name in ("study-refusals-dev.jsonl", "study-evals-dev.jsonl")
        for line in (REAL / name).open(encoding="utf-8")
    ]
    real = [
        Record(
            row["id"],
            [Message("user", row["request"]), Message("assistant", row["response"])],
            {"set": "gramenism"},
        )
        for row in rows
    ]

    def refusals(fast: bool, prob: float = RefusalConfig.candidate_prob) -> set:
        ctx = AuditContext(embedder=embedder, static=static)
        return {
            f.record_id
            for f in RefusalCheck(RefusalConfig(candidate_prob=prob), fast=fast).run(real, ctx)
        }

    full, out["refusal_minilm_s"] = timed(lambda: refusals(False))
    out["refusal_real"] = {
        "texts": len(real),
        "minilm_refusals": len(full),
        "by_candidate_prob": {},
    }
    for prob in (0.05, 0.1, 0.2, 0.3):
        fast = refusals(True, prob)
        out["refusal_real"]["by_candidate_prob"][prob] = {
            "fast_refusals": len(fast),
            "recall": recall(fast, full),
            "extra": len(fast - full),
        }
    embedder = Embedder(model=embedder.model)
    _, out["refusal_fast_s"] = timed(lambda: refusals(True))
    return out


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1000
    print(json.dumps(main(size, refusal_only="--refusal-only" in sys.argv), indent=2))
