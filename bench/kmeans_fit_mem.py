"""Peak memory of the semantic reduce's k-means fit: the sampled rows gathered, centred, one round.

    nice -n 5 .venv/bin/python bench/kmeans_fit_mem.py VECTORS.npy [--lists 6000]

``VECTORS.npy`` is a float16 (rows, width) array (``bench/kmeans_blocking.py`` leaves one per
corpus in /tmp); it is memory-mapped, so only the sampled rows are read, as from the spilled
file in an audit. ``--lists 6000`` is the audit's list count at 3M rows (n / 500), which
samples 240,000 rows (40 a list). Prints tracemalloc's peak for one fitting round.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tracemalloc

import numpy as np

from credo.filters import ann


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("vectors")
    parser.add_argument("--lists", type=int, default=6000)
    args = parser.parse_args(argv)
    vectors = np.load(args.vectors, mmap_mode="r")
    config = dataclasses.replace(ann.AnnConfig(), iterations=1)
    tracemalloc.start()
    ann._fit_lists(vectors, args.lists, config, np.random.default_rng(0))
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    print(
        f"{args.lists} lists, {min(len(vectors), args.lists * 40):,} rows sampled: peak {peak:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
