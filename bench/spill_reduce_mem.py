"""Peak memory of near_duplicate's reduce at 1M-10M records, partials spilled or held.

    nice -n 5 .venv/bin/python bench/spill_reduce_mem.py 1000000 3000000 10000000 [--held 1000000]

Each size runs in a fresh process: synthetic partials (random 16-bit MinHash slots and band
keys, 0.4% of records planted as copies of earlier ones with a few slots changed) are made a
4,096-record batch at a time and handed to the check as the engines hand them (``Parts``,
which spills them to disk through ``combine``), then reduced; ``ru_maxrss`` of that process is
the peak. ``--held`` sizes keep every batch's partial in memory and stack it, as the audit
did before the spill. The text side (MinHash of the records) is not timed here: its memory
is one batch.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BATCH = 4096


def one(n: int, held: bool) -> dict:
    from credo.filters.base import AuditContext, InMemory, Parts
    from credo.filters.dedup import NearDuplicateCheck
    from credo.filters.spill import SpilledIds

    check = NearDuplicateCheck()
    bands, perm = check.config.bands, check.config.num_perm
    rng = np.random.default_rng(0)
    parts, kept = Parts(check), []
    ids = SpilledIds()
    ring_keys = np.zeros((0, bands), np.uint64)
    ring_sigs = np.zeros((0, perm), np.uint16)
    began = time.perf_counter()
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        keys = rng.integers(0, 1 << 63, size=(size, bands), dtype=np.uint64)
        sigs = rng.integers(0, 1 << 16, size=(size, perm), dtype=np.uint16)
        if len(ring_keys):  # 0.4% copies of the previous batch, 4 slots changed
            copies = rng.choice(size, max(1, size // 250), replace=False)
            source = rng.choice(len(ring_keys), len(copies))
            keys[copies], sigs[copies] = ring_keys[source], ring_sigs[source]
            sigs[copies, :4] += 1
        ring_keys, ring_sigs = keys, sigs
        if held:
            kept.append((keys, sigs))
        else:
            parts.add(start, (keys, sigs))
        ids.extend(f"r{i:08d}" for i in range(start, start + size))
    mapped = time.perf_counter() - began

    class Corpus(InMemory):
        def __init__(self) -> None:
            self.ids = ids  # type: ignore[assignment]

        def fetch(self, positions):  # type: ignore[no-untyped-def]
            return {}

    ctx = AuditContext()
    if held:
        stacked = (np.concatenate([k for k, _ in kept]), np.concatenate([s for _, s in kept]))
        kept.clear()
        folded = [(0, stacked)]
    else:
        folded = list(parts.drain())
    import credo.filters.dedup as dedup

    dedup.SHOWN_CLUSTERS = 0  # no record texts to fetch here
    found = sum(1 for _ in check.reduce(folded, Corpus(), ctx))
    return {
        "n": n,
        "partials": "held in memory" if held else "spilled",
        "flagged": found,
        "seconds_make": round(mapped, 1),
        "seconds_total": round(time.perf_counter() - began, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", type=int, nargs="*")
    parser.add_argument("--held", type=int, nargs="*", default=[])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--held-one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.held_one)))
        return
    runs = [(n, False) for n in args.sizes] + [(n, True) for n in args.held]
    for n, held in runs:
        command = [sys.executable, __file__, "--one", str(n)] + (["--held-one"] if held else [])
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
