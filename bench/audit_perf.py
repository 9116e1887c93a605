"""Throughput of the audit stages on synthetic corpora with planted problems.

    .venv/bin/python bench/audit_perf.py 10000 --embedding     # every stage
    .venv/bin/python bench/audit_perf.py 100000                # non-embedding stages

Stages: near-duplicate (ours vs a per-record ``datasketch.MinHash.update`` loop on the same
texts and shingles; recall of planted pairs), refusal patterns, eval contamination against
the 100 Gramenism eval requests (lexical part, then with embeddings), MiniLM encoding through
:class:`Embedder` vs the raw ``SentenceTransformer.encode`` on the same texts. Peak RSS from
``getrusage`` (the whole process, so it is cumulative across stages).
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from audit_synth import gramenism_evals, make_corpus

from credo.filters.base import AuditContext, EvalItem
from credo.filters.contamination import EvalContaminationCheck
from credo.filters.dedup import NearDuplicateCheck
from credo.filters.patterns import find_refusal_patterns
from credo.types import Record


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def datasketch_loop(texts: list[str], shingle: int, num_perm: int) -> float:
    """The baseline: one MinHash object per record, one ``update`` per shingle."""
    from datasketch import MinHash

    start = time.perf_counter()
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        mh = MinHash(num_perm=num_perm)
        for i in range(max(1, len(words) - shingle + 1)):
            mh.update(" ".join(words[i : i + shingle]).encode())
    return time.perf_counter() - start


def bench_near_duplicates(records: list[Record], planted: dict, baseline_n: int) -> dict:
    check = NearDuplicateCheck()
    ctx = AuditContext()
    findings, seconds = _timed(lambda: list(check.run(records, ctx)))
    found = {(f.details["kept"], f.record_id) for f in findings} | {
        (f.record_id, f.details["kept"]) for f in findings
    }
    clusters = {}
    for f in findings:
        clusters.setdefault(f.details["kept"], set()).add(f.record_id)

    def same_cluster(a, b):
        return any({a, b} <= ({k} | v) for k, v in clusters.items())

    hits = sum((a, b) in found or same_cluster(a, b) for a, b in planted["near_duplicate"])
    sample = [r.text for r in records[:baseline_n]]
    base_seconds = datasketch_loop(sample, check.config.shingle, check.config.num_perm)
    ours = len(records) / seconds
    base = len(sample) / base_seconds
    return {
        "seconds": round(seconds, 2),
        "records_per_s": round(ours),
        "baseline_records_per_s": round(base),
        "speedup": round(ours / base, 1),
        "recall": hits / len(planted["near_duplicate"]),
        "planted": len(planted["near_duplicate"]),
        "flagged": len(findings),
        "config": str(check.config),
    }


def bench_contamination(
    records: list[Record], evals: list[EvalItem], planted: dict, embedding: bool
) -> dict:
    check = EvalContaminationCheck(use_embedding=embedding)
    ctx = AuditContext(evals=evals)
    findings, seconds = _timed(lambda: list(check.run(records, ctx)))
    flagged = {f.record_id for f in findings}
    exact = sum(i in flagged for i in planted["eval_exact"]) / len(planted["eval_exact"])
    return {
        "seconds": round(seconds, 2),
        "flagged": len(flagged),
        "planted_exact_recall": exact,
        "embedded_texts": ctx.embedder.encoded_texts if ctx.embedder else 0,
    }


def bench_encoder(records: list[Record], limit: int) -> dict:
    from credo.filters.base import response_head
    from credo.filters.embed import Embedder

    texts = [response_head(r) for r in records[:limit]]
    embedder = Embedder()
    embedder.model.encode(texts[:256], batch_size=128)  # warm-up, both paths
    _, raw = _timed(lambda: embedder.model.encode(texts, batch_size=128, normalize_embeddings=True))
    _, ours = _timed(lambda: embedder.encode(texts))
    return {
        "texts": len(texts),
        "raw_per_s": round(len(texts) / raw),
        "embedder_per_s": round(len(texts) / ours),
        "ratio": round(raw / ours, 3),
    }


def main() -> None:
    n = int(sys.argv[1])
    embedding = "--embedding" in sys.argv
    evals_text = gramenism_evals()
    evals = [EvalItem(f"ev{i}", t) for i, t in enumerate(evals_text)]
    (raw, planted), gen_s = _timed(lambda: make_corpus(n, evals_text, answer_words=100))
    records = [Record.from_json(r) for r in raw]
    report: dict = {"records": len(records), "generate_s": round(gen_s, 1)}
    report["near_duplicate"] = bench_near_duplicates(
        records, planted, baseline_n=min(len(records), 5000)
    )
    hits, seconds = _timed(lambda: sum(bool(find_refusal_patterns(r.response)) for r in records))
    report["refusal_patterns"] = {
        "seconds": round(seconds, 2),
        "records_per_s": round(len(records) / seconds),
        "flagged": hits,
    }
    report["contamination_lexical"] = bench_contamination(records, evals, planted, embedding=False)
    if embedding:
        report["contamination_embedding"] = bench_contamination(
            records, evals, planted, embedding=True
        )
        report["encoder"] = bench_encoder(records, limit=min(len(records), 5000))
    report["peak_rss_mb"] = round(_rss_mb())
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
