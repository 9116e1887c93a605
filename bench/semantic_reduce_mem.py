"""Peak memory of semantic_duplicate's reduce on spilled vectors, phase by phase.

    nice -n 5 .venv/bin/python bench/semantic_reduce_mem.py 1000000

Synthetic float16 vectors (2,000 topics plus noise plus a shared direction, as static vectors
of one corpus have) are folded batch by batch through ``Parts`` (so they spill to disk as
in an audit), then centred in place and searched with one k-means round, printing the
process's peak RSS after each phase. No text is encoded: this is the reduce's memory alone.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from credo.filters import ann
from credo.filters.base import Parts
from credo.filters.dedup import SemanticConfig, SemanticDuplicateCheck, centre_rows

BEGAN = time.time()


def peak(tag: str) -> None:
    mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"{tag}: peak RSS {mb} MB, {round(time.time() - BEGAN)} s", flush=True)


def main(n: int) -> None:
    check = SemanticDuplicateCheck(SemanticConfig(confirm=False))
    parts = Parts(check)
    rng = np.random.default_rng(0)
    topics = rng.normal(size=(2000, 256)).astype(np.float32)
    for start in range(0, n, 4096):
        size = min(4096, n - start)
        rows = topics[rng.integers(0, 2000, size)] + 0.8 * rng.normal(size=(size, 256)) + 2.0
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        parts.add(start, rows.astype(np.float16))
    peak(f"{n} rows spilled")
    column = parts.items[0][1].columns["vectors"]
    centre_rows(column)
    peak("centred")
    pairs, _ = ann.kmeans_pairs(column, 0.95, ann.AnnConfig(rounds=1, rounds_rows=10**12))
    peak(f"one k-means round ({len(pairs)} pairs)")


if __name__ == "__main__":
    main(int(sys.argv[1]))
