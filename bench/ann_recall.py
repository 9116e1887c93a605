"""Semantic dedup past 100k rows: k-means blocking against exact search, on static vectors.

Reads the first N records of a corpus (e.g. one written by ``bench/million_synth.py``),
embeds them as the semantic check does (static model, prompt + answer head, float16), and
finds all pairs above each cosine both ways: exact blocked search (every pair) and the
k-means lists the audit uses past ``AnnConfig.exact_max``. Reports the share of exact pairs
the lists find and both times. With ``--planted`` (a ``million_synth`` corpus) exact search
is skipped, which a million rows cannot afford, and recall is of the planted paraphrase pairs
whose static cosine clears the threshold.

    .venv/bin/python bench/ann_recall.py /tmp/ms100k/records.jsonl 100000
    .venv/bin/python bench/ann_recall.py /tmp/ms1m/records.jsonl 1000000 --planted
"""

from __future__ import annotations

import json
import resource
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np

from credo.corpora.io import read_records
from credo.filters import ann
from credo.filters.ann import AnnConfig
from credo.filters.dedup import pair_vectors
from credo.filters.embed import StaticEmbedder

FIXED = 10**12  # rounds_rows: the rounds named, at any size
CONFIGS = (
    AnnConfig(exact_max=0, probes=2, rounds=1, rounds_rows=FIXED),
    AnnConfig(exact_max=0, probes=3, rounds=1, rounds_rows=FIXED),
    AnnConfig(exact_max=0, probes=2, rounds=1, list_rows=2000, rounds_rows=FIXED),
    AnnConfig(exact_max=0, probes=2, rounds=3, rounds_rows=FIXED),
    AnnConfig(exact_max=0),
)  # the last: the audit's default (more rounds past 1M rows)


def main(path: Path, n: int, thresholds: tuple[float, ...] = (0.9,), planted: bool = False) -> dict:
    static = StaticEmbedder()
    start = time.perf_counter()
    ids, parts, batch = [], [], []
    for record in islice(read_records(path), n):  # streamed: a million records never sit in memory
        ids.append(record.id)
        batch.append(record)
        if len(batch) == 4096:
            parts.append(pair_vectors(static, batch).astype(np.float16))
            batch = []
    if batch:
        parts.append(pair_vectors(static, batch).astype(np.float16))
    vectors = np.concatenate(parts)
    del parts
    out: dict = {
        "records": len(ids),
        "encode_s": round(time.perf_counter() - start, 1),
        "thresholds": {},
    }
    if planted:
        return _planted(path, ids, vectors, thresholds, out)
    for threshold in thresholds:
        start = time.perf_counter()
        exact, _ = ann.exact_pairs(vectors.astype(np.float32), threshold, 2048)
        truth = {tuple(p) for p in exact.tolist()}
        row = out["thresholds"][str(threshold)] = {
            "exact_pairs": len(truth),
            "exact_s": round(time.perf_counter() - start, 1),
            "kmeans": [],
        }
        for config in CONFIGS:
            start = time.perf_counter()
            blocked, _ = ann.kmeans_pairs(vectors, threshold, config)
            found = {tuple(p) for p in blocked.tolist()}
            row["kmeans"].append(
                {
                    "config": str(config),
                    "seconds": round(time.perf_counter() - start, 1),
                    "pairs": len(found),
                    "recall_of_exact": round(len(found & truth) / max(1, len(truth)), 4),
                    "extra": len(found - truth),
                }
            )
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def _planted(
    path: Path, ids: list[str], vectors: np.ndarray, thresholds: tuple[float, ...], out: dict
) -> dict:
    where = {rid: i for i, rid in enumerate(ids)}
    pairs = [
        tuple(sorted((where[a], where[b])))
        for a, b in json.loads((path.parent / "planted.json").read_text())["paraphrase"]
        if a in where and b in where
    ]
    for threshold in thresholds:
        cos = [
            float(vectors[a].astype(np.float32) @ vectors[b].astype(np.float32)) for a, b in pairs
        ]
        truth = {p for p, c in zip(pairs, cos) if c >= threshold}
        row = out["thresholds"][str(threshold)] = {
            "planted_pairs": len(pairs),
            "planted_above": len(truth),
            "kmeans": [],
        }
        for config in CONFIGS:
            start = time.perf_counter()
            blocked, _ = ann.kmeans_pairs(vectors, threshold, config)
            found = {tuple(p) for p in blocked.tolist()}
            row["kmeans"].append(
                {
                    "config": str(config),
                    "seconds": round(time.perf_counter() - start, 1),
                    "pairs": len(found),
                    "planted_recall": round(len(found & truth) / max(1, len(truth)), 4),
                }
            )
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(
        json.dumps(
            main(
                Path(args[0]),
                int(args[1]) if len(args) > 1 else 100_000,
                planted="--planted" in sys.argv,
            ),
            indent=2,
        )
    )
