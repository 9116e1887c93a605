"""Semantic dedup past 100k rows: k-means blocking against exact search, on static vectors.

Reads the first N records of a corpus (e.g. one written by ``bench/million_synth.py``),
embeds them as the semantic check does (static model, prompt + answer head, float16), and
finds all pairs above each cosine both ways: exact blocked search (every pair) and the
k-means lists the audit uses past ``AnnConfig.exact_max``. Reports the share of exact pairs
the lists find and both times.

    .venv/bin/python bench/ann_recall.py /tmp/ms100k/records.jsonl 100000
"""

from __future__ import annotations

import json
import resource
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np

from credo.checks import ann
from credo.checks.ann import AnnConfig
from credo.checks.dedup import pair_vectors
from credo.checks.embed import StaticEmbedder
from credo.corpora.io import read_records

CONFIGS = (AnnConfig(exact_max=0), AnnConfig(exact_max=0, probes=3), AnnConfig(exact_max=0, list_rows=2000))


def main(path: Path, n: int, thresholds: tuple[float, ...] = (0.9,)) -> dict:
    static = StaticEmbedder()
    records = list(islice(read_records(path), n))
    start = time.perf_counter()
    vectors = np.concatenate([pair_vectors(static, records[s : s + 4096]).astype(np.float16)
                              for s in range(0, len(records), 4096)])
    out: dict = {"records": len(records), "encode_s": round(time.perf_counter() - start, 1), "thresholds": {}}
    del records
    for threshold in thresholds:
        start = time.perf_counter()
        exact, _ = ann.exact_pairs(vectors.astype(np.float32), threshold, 2048)
        truth = {tuple(p) for p in exact.tolist()}
        row = out["thresholds"][str(threshold)] = {"exact_pairs": len(truth),
                                                   "exact_s": round(time.perf_counter() - start, 1), "kmeans": []}
        for config in CONFIGS:
            start = time.perf_counter()
            blocked, _ = ann.kmeans_pairs(vectors, threshold, config)
            found = {tuple(p) for p in blocked.tolist()}
            row["kmeans"].append({"config": str(config), "seconds": round(time.perf_counter() - start, 1),
                                  "pairs": len(found), "recall_of_exact": round(len(found & truth) / max(1, len(truth)), 4),
                                  "extra": len(found - truth)})
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000), indent=2))
