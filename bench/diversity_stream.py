"""Time and peak memory of the streaming diversity check: N synthetic answers through
``map_batch`` / ``reduce`` in batches of 4,096 records.

    nice -n 10 .venv/bin/python bench/diversity_stream.py 1000000

Answers are 100-200 words drawn from a Zipf-like vocabulary of 50,000 words, in sentences
of 8-16 words; 3% of answers carry one of 20 stock sentences (mode collapse) and some words
are capitalised names. Batches are generated on the fly and dropped, so the peak RSS above
the baseline (after imports and the first batch) is the check's own state. Generation time
is reported apart from the check's time.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator

import numpy as np

from credo.filters.base import AuditContext, InMemory
from credo.filters.diversity import DiversityCheck
from credo.types import Message, Record

BATCH = 4096
VOCAB = 50_000


def _vocabulary(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = ["".join(rng.choice(letters, rng.integers(2, 10))) for _ in range(VOCAB)]
    names = [w.capitalize() + " " + rng.choice(words).capitalize() for w in words[:300]]
    plain = np.array(words + names, dtype=object)
    weights = 1.0 / np.arange(1, len(plain) + 1)
    return plain, weights / weights.sum()


def batches(n: int, seed: int = 0) -> Iterator[list[Record]]:
    rng = np.random.default_rng(seed)
    vocab, p = _vocabulary(rng)
    rng.shuffle(p[VOCAB:])  # names spread over the ranks
    stock = [" ".join(rng.choice(vocab[:2000], 10)) + "." for _ in range(20)]
    done = 0
    while done < n:
        size = min(BATCH, n - done)
        lengths = rng.integers(100, 201, size)
        words = vocab[rng.choice(len(vocab), int(lengths.sum()), p=p)]
        ends = np.flatnonzero(rng.random(len(words)) < 1 / 12)
        words[ends] = words[ends] + "."  # sentence ends
        records = []
        for i, chunk in enumerate(np.split(words, np.cumsum(lengths)[:-1])):
            answer = " ".join(chunk.tolist()) + "."
            if rng.random() < 0.03:
                answer += " " + stock[int(rng.integers(20))]
            records.append(
                Record(
                    f"r{done + i}",
                    [
                        Message("user", f"Question {done + i} about item {i % 97}?"),
                        Message("assistant", answer),
                    ],
                    {"set": "core"},
                )
            )
        done += size
        yield records


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def main(n: int) -> dict:
    check, ctx = DiversityCheck(), AuditContext()
    generated = batches(n)
    first = next(generated)
    check.reduce(
        [(0, check.map_batch(first[:10], ctx))], InMemory(first[:10]), ctx
    )  # warm up imports
    baseline = rss_mb()
    spent = {"generate": 0.0, "map_batch": 0.0}
    partial_bytes = total_bytes = 0

    def partials() -> Iterator[tuple[int, object]]:
        nonlocal partial_bytes, total_bytes
        import pickle

        offset, batch = 0, first
        while batch is not None:
            start = time.perf_counter()
            part = check.map_batch(batch, ctx)
            spent["map_batch"] += time.perf_counter() - start
            size = len(pickle.dumps(part))
            partial_bytes, total_bytes = max(partial_bytes, size), total_bytes + size
            yield offset, part
            offset += len(batch)
            start = time.perf_counter()
            batch = next(generated, None)
            spent["generate"] += time.perf_counter() - start

    start = time.perf_counter()
    check.reduce(partials(), InMemory([]), ctx)
    total = time.perf_counter() - start
    section = ctx.sections["diversity"]["core"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "records": n,
        "check_seconds": round(total - spent["generate"], 1),
        "map_batch_seconds": round(spent["map_batch"], 1),
        "generate_seconds": round(spent["generate"], 1),
        "baseline_rss_mb": round(baseline),
        "peak_rss_mb": round(peak),
        "extra_rss_mb": round(peak - baseline),
        "largest_partial_kb": round(partial_bytes / 1024),
        # what a runner that holds every partial until reduce would hold
        "all_partials_mb": round(total_bytes / 2**20),
        "distinct_1": section["distinct_1"],
        "distinct_2": section["distinct_2"],
        "prompt_distinct_2": section["prompt_distinct_2"],
        "estimated": section["estimated"],
        "top_sentence": section["repeated_sentences"][:1],
        "answer_words": section["answer_words"],
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1])), indent=2))
