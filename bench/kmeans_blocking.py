"""Do planted copies share a k-means list? By number of probes and of rounds, at one corpus size.

    nice -n 5 .venv/bin/python bench/kmeans_blocking.py /tmp/ms1000k [--rounds 4]

Encodes every record of a ``million_synth`` corpus with the static model as the semantic
check does (pair vectors, float16; kept in ``/tmp/kmeans_blocking_<name>.npy`` for reuse),
centres them, fits the audit's k-means lists (its seeds: ``seed + round``) and, for each
planted paraphrase and near-copy whose centred cosine reaches the candidate threshold, finds
the fewest probes at which the two rows share a list in each round. A pair that shares no
list in any round is one the candidate search cannot return, whatever MiniLM would say.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from credo.corpora.io import read_records
from credo.filters.ann import AnnConfig, _fit_lists, _nearest_lists
from credo.filters.base import AuditContext
from credo.filters.dedup import SemanticConfig, centre_rows, pair_vectors

PROBES = (1, 2, 3, 4, 5, 6, 8)


def static_vectors(corpus: Path) -> np.ndarray:
    cache = Path(f"/tmp/kmeans_blocking_{corpus.name}.npy")
    if cache.exists():
        return np.load(cache)
    static, out, batch = AuditContext().get_static(), [], []
    for record in read_records(corpus / "records.jsonl"):
        batch.append(record)
        if len(batch) == 4096:
            out.append(pair_vectors(static, batch).astype(np.float16))
            batch = []
    if batch:
        out.append(pair_vectors(static, batch).astype(np.float16))
    vectors = np.concatenate(out)
    np.save(cache, vectors)
    return vectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    began = time.time()
    vectors = static_vectors(args.corpus).copy()
    centre_rows(vectors)
    threshold, config = SemanticConfig().candidate_threshold, AnnConfig()
    planted = json.loads((args.corpus / "planted.json").read_text())
    lists = max(1, len(vectors) // config.list_rows)
    first: dict[str, list[np.ndarray]] = {}
    pairs: dict[str, np.ndarray] = {}
    for kind in ("paraphrase", "near_duplicate"):
        rows = np.array([[int(a[1:]), int(b[1:])] for a, b in planted[kind]])  # r<position>
        cos = np.einsum(
            "ij,ij->i",
            vectors[rows[:, 0]].astype(np.float32),
            vectors[rows[:, 1]].astype(np.float32),
        )
        pairs[kind], first[kind] = rows[cos >= threshold], []
        print(f"{kind}: {len(pairs[kind])} of {len(rows)} reach {threshold} centred", flush=True)
    for round_ in range(args.rounds):
        centroids, mean = _fit_lists(
            vectors, lists, config, np.random.default_rng(config.seed + round_)
        )
        for kind, rows in pairs.items():
            near_a = _nearest_lists(vectors[rows[:, 0]], centroids, max(PROBES), mean)
            near_b = _nearest_lists(vectors[rows[:, 1]], centroids, max(PROBES), mean)
            fewest = np.full(len(rows), 10**6)
            for k in range(1, max(PROBES) + 1):
                share = (near_a[:, :k, None] == near_b[:, None, :k]).any(axis=(1, 2))
                fewest = np.where((fewest > k) & share, k, fewest)
            first[kind].append(fewest)
        print(f"round {round_ + 1}: {time.time() - began:.0f} s", flush=True)
    for kind, rounds in first.items():
        table = np.array(rounds)
        print(f"{kind}: share of pairs in a shared list (rows: probes; columns: rounds 1..)")
        for k in PROBES:
            shares = [(table[: r + 1] <= k).any(axis=0).mean() for r in range(len(table))]
            print(f"  probes {k}: " + "  ".join(f"{s:.4f}" for s in shares))
    return 0


if __name__ == "__main__":
    sys.exit(main())
