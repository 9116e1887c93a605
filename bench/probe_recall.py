"""The inverted-file pair search against the exact search, on the semantic check's own vectors.

    .venv/bin/python bench/probe_recall.py /tmp/real100k/records.jsonl [/tmp/ms100k/records.jsonl]
        [--thresholds 0.85,0.95] [--probes 1,2,4,8] [--json result.json]

Embeds each corpus as ``semantic_duplicate``'s fast path does (static model, prompt + answer
head, float16, centred), then finds every pair above each cosine twice: the exact search
(``ann.exact_pairs`` with its projected bound, as the check ran up to 100k rows before) and
the inverted file (``ann.probe_pairs``, what ``similar_pairs`` now runs from
``AnnConfig.probe_min`` rows), once per probe count. Neither caps links per row here, so the
recall is of every exact pair. 0.95 is the static decision's threshold, 0.85 the candidate
threshold of the default path (MiniLM confirming). Reports pairs, recall of the exact pairs,
pairs the exact search lacks (none can exist: both keep only cosines above the threshold)
and CPU seconds of each search.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from credo.corpora.io import read_records
from credo.filters import ann
from credo.filters.dedup import centre_rows, pair_vectors
from credo.filters.embed import StaticEmbedder


def vectors_of(path: Path, static: StaticEmbedder) -> np.ndarray:
    records = list(read_records(path))
    vectors = pair_vectors(static, records).astype(np.float16)  # what the check's partial holds
    centre_rows(vectors)
    return vectors.astype(np.float32)


def compare(vectors: np.ndarray, threshold: float, probes: list[int]) -> dict[str, Any]:
    cpu = time.process_time()
    exact, _ = ann.exact_pairs(vectors, threshold, 2048, None, filter_dims=32)
    row: dict[str, Any] = {
        "exact_pairs": len(exact),
        "exact_cpu_s": round(time.process_time() - cpu, 2),
        "probe": [],
    }
    truth = {(a, b) for a, b in exact.tolist()}
    for count in probes:
        config = dataclasses.replace(ann.AnnConfig(), probe_lists=count, max_neighbours=None)
        cpu = time.process_time()
        found, _ = ann.probe_pairs(vectors, threshold, config)
        seconds = time.process_time() - cpu
        got = {(a, b) for a, b in found.tolist()}
        row["probe"].append(
            {
                "config": str(config),
                "cpu_s": round(seconds, 2),
                "pairs": len(got),
                "recall_of_exact": round(len(got & truth) / max(1, len(truth)), 5),
                "not_exact": len(got - truth),
            }
        )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpora", type=Path, nargs="+")
    parser.add_argument("--thresholds", default="0.85,0.95")
    parser.add_argument("--probes", default="1,2,4,8")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    static = StaticEmbedder()
    probes = [int(p) for p in args.probes.split(",")]
    results = []
    for path in args.corpora:
        vectors = vectors_of(path, static)
        for threshold in (float(t) for t in args.thresholds.split(",")):
            row = {"corpus": str(path), "rows": len(vectors), "threshold": threshold}
            row.update(compare(vectors, threshold, probes))
            print(json.dumps(row), flush=True)
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
