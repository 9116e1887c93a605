"""The static-embedding stages at scale: speed, candidate recall, HNSW against exact search.

    nice -n 19 .venv/bin/python bench/audit_scale.py 100000

On a synthetic corpus (``audit_synth``) with planted paraphrases (``fast_synth``): the
static model's encoding rate over prompts and answer heads, the semantic-dedup candidate
stage (exact blocked search, and HNSW on the same vectors: recall of the exact pairs), the
recall of planted paraphrases among the candidates, the contamination candidate stage
against the Gramenism evals (recall of planted eval copies and paraphrases), and the
refusal classifier's static stage (recall of planted refusals). MiniLM confirmation is not
run here: bench/audit_fast.py measures how much of MiniLM's decisions survive it. Peak RSS
is the whole process.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from audit_synth import gramenism_evals, make_corpus
from fast_synth import plant_paraphrases

from credo.filters import ann
from credo.filters.base import response_head
from credo.filters.dedup import SemanticConfig
from credo.filters.embed import StaticEmbedder
from credo.filters.refusal_detector import RefusalConfig, RefusalDetector
from credo.types import Record


def rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(n: int, exact: bool) -> dict:
    evals = gramenism_evals()
    raw, planted = make_corpus(n, evals)
    planted.update(plant_paraphrases(raw, evals, rate=0.01))
    records = [Record.from_json(r) for r in raw]
    del raw
    index = {r.id: i for i, r in enumerate(records)}
    static = StaticEmbedder()
    static.encode(["warm up"])
    out: dict = {"records": len(records), "rss_after_corpus_mb": rss_mb()}

    start, cpu = time.perf_counter(), time.process_time()
    vectors = np.zeros((len(records), static.dim), dtype=np.float32)
    for s in range(0, len(records), 65536):
        chunk = records[s : s + 65536]
        v = static.encode([r.prompt for r in chunk]) + static.encode(
            [response_head(r) for r in chunk]
        )
        vectors[s : s + len(chunk)] = v / np.maximum(
            np.linalg.norm(v, axis=1, keepdims=True), 1e-12
        )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # CPU seconds too: on a shared, loaded box the wall clock says more about the neighbours.
    out["static_encode"] = {
        "seconds": round(seconds, 1),
        "records_per_s": round(len(records) / seconds),
        "cpu_seconds": round(cpu, 1),
        "records_per_cpu_s": round(len(records) / cpu),
    }

    cfg = SemanticConfig()
    planted_pairs = {tuple(sorted((index[a], index[b]))) for a, b in planted["paraphrase"]}
    start = time.perf_counter()
    hnsw, _ = ann.hnsw_pairs(vectors, cfg.candidate_threshold, cfg.ann)
    hnsw_set = {tuple(p) for p in hnsw.tolist()}
    out["semantic_hnsw"] = {
        "seconds": round(time.perf_counter() - start, 1),
        "candidates": len(hnsw_set),
        "planted_recall": round(len(hnsw_set & planted_pairs) / len(planted_pairs), 4),
        "config": str(cfg.ann),
    }
    if exact:
        start = time.perf_counter()
        ex, _ = ann.exact_pairs(vectors, cfg.candidate_threshold, cfg.block)
        ex_set = {tuple(p) for p in ex.tolist()}
        out["semantic_exact"] = {
            "seconds": round(time.perf_counter() - start, 1),
            "candidates": len(ex_set),
            "planted_recall": round(len(ex_set & planted_pairs) / len(planted_pairs), 4),
        }
        out["hnsw_recall_of_exact"] = round(len(hnsw_set & ex_set) / max(1, len(ex_set)), 4)
    del vectors

    # Contamination candidates: eval requests against prompts and answer heads, in blocks.
    eval_vecs = static.encode(evals)
    start = time.perf_counter()
    hits: set[int] = set()
    for s in range(0, len(records), 65536):
        chunk = records[s : s + 65536]
        for texts in ([r.prompt for r in chunk], [response_head(r) for r in chunk]):
            rows = np.flatnonzero((eval_vecs @ static.encode(texts).T).max(axis=0) >= 0.6)
            hits.update((rows + s).tolist())
    want = [index[i] for i in planted["eval_exact"] + planted["eval_paraphrase"]]
    out["contamination_static"] = {
        "seconds": round(time.perf_counter() - start, 1),
        "candidates": len(hits),
        "planted_recall": round(sum(i in hits for i in want) / len(want), 4),
    }

    detector = RefusalDetector(RefusalConfig(), embedder=None, use_embedding=False)
    detector.static = static
    clf = detector._classifier(static)
    start = time.perf_counter()
    probs = np.concatenate(
        [
            clf.predict_proba(static.encode([r.response[:300] for r in records[s : s + 65536]]))[
                :, 1
            ]
            for s in range(0, len(records), 65536)
        ]
    )
    refusals = [index[i] for i in planted["refusal"]]
    out["refusal_static"] = {
        "seconds": round(time.perf_counter() - start, 1),
        "candidates": int((probs >= RefusalConfig().candidate_prob).sum()),
        "planted_recall": round(
            float((probs[refusals] >= RefusalConfig().candidate_prob).mean()), 4
        ),
    }
    out["peak_rss_mb"] = rss_mb()
    return out


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps(main(size, exact="--exact" in sys.argv), indent=2))
