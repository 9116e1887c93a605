"""What a MiniLM cascade would cost the judge: share of pairs that reach MiniLM, pairs/s.

The cascade of the judge card's round 8: the shipped lexical classifier decides every pair
whose top probability reaches the cut (0.6, ``UNCERTAIN_BELOW``, the cut the protocol's
training folds chose most often); only the rest have their opening embedded by
all-MiniLM-L6-v2. Timed on the labelled real answers in ``../shared/real-outputs`` (read,
never written), one process, the model warm (its load is timed apart).

    nice -n 10 .venv/bin/python bench/judge_cascade_speed.py
"""

from __future__ import annotations

import sys
import time

from bench.judge_round8 import minilm, opening
from credo.filters.refusal_classifier import UNCERTAIN_BELOW, shipped
from credo.judges.train_classifier import load_examples


def main() -> int:
    examples = load_examples(heldout=True)
    if not examples:
        print("no real outputs found (../shared/real-outputs); nothing to time")
        return 0
    requests, responses = [e.request for e in examples], [e.response for e in examples]
    model = shipped()
    model.proba(requests[:10], responses[:10])  # warm
    start, cpu = time.perf_counter(), time.process_time()
    probs = model.proba(requests, responses)
    lex_wall, lex_cpu = time.perf_counter() - start, time.process_time() - cpu
    band = [i for i, top in enumerate(probs.max(axis=1)) if top < UNCERTAIN_BELOW]

    start = time.perf_counter()
    encoder = minilm()
    encoder.encode(["warm up"] * 8)
    load = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    encoder.encode([opening(requests[i], responses[i]) for i in band], batch_size=64)
    emb_wall, emb_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    every = encoder.encode([opening(q, r) for q, r in zip(requests, responses)], batch_size=64)
    all_wall, all_cpu = time.perf_counter() - start, time.process_time() - cpu

    n = len(examples)
    print(
        f"{n} pairs: lexical {n / lex_wall:,.0f} pairs/s wall ({n / lex_cpu:,.0f} per CPU-second); "
        f"band (top < {UNCERTAIN_BELOW}) {len(band)} pairs = {len(band) / n:.1%}; MiniLM load "
        f"{load:.1f} s, band openings {emb_wall:.2f} s wall ({emb_cpu:.2f} CPU-s); every opening "
        f"{len(every) / all_wall:,.0f}/s wall ({len(every) / all_cpu:,.0f} per CPU-second)\n"
        f"cascade: {n / (lex_wall + emb_wall):,.0f} pairs/s wall "
        f"({n / (lex_cpu + emb_cpu):,.0f} per CPU-second), MiniLM load not counted"
    )
    # The shipped weights saw most of these pairs, so their band here is smaller than on a
    # model left out (the protocol's held-out bands: 0-18%); the cost at those shares:
    for share in (0.05, 0.10, 0.20):
        wall = lex_wall / n + share * all_wall / n
        per_cpu = lex_cpu / n + share * all_cpu / n
        print(
            f"  band {share:.0%}: {1 / wall:,.0f} pairs/s wall, {1 / per_cpu:,.0f} per CPU-second"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
