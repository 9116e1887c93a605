"""What an audit keeps per record, check by check: the driver's partials and a worker's MiniLM cache.

    nice -n 5 .venv/bin/python bench/audit_growth.py /tmp/ms1000k [--batches 3]
    nice -n 5 .venv/bin/python bench/audit_growth.py /tmp/ms1000k --worker forbidden_request --batches 245

For each default check, maps ``--batches`` batches of 4,096 records of a ``million_synth``
corpus and reports how the engines hold its partials (streamed to the finding store, spilled
to disk, folded into one running partial by ``combine``, or kept as a LIST of every batch's,
which grows with the corpus) and their size per record, pickled and as Python objects
(tracemalloc). Then it measures what a worker's MiniLM cache would hold per record if it kept
every text: the distinct request-form prompts that forbidden_request embeds, and the bytes
one cached text costs.

With ``--worker CHECKS`` it is one worker instead: those checks map ``--batches`` batches in
this process (partials dropped, as a worker sends them away) and its RSS and MiniLM cache
size are printed every 5 batches.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import pickle
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from credo.audit.options import AuditOptions
from credo.audit.runner import build_context
from credo.corpora.io import read_records
from credo.filters.embed import Embedder
from credo.filters.forbidden import is_request
from credo.filters.registry import build_checks

BATCH = 4096


def held_as(check: object) -> str:
    if getattr(check, "streams_findings", False):
        return "streamed"
    if getattr(check, "spills_parts", False):
        return "spilled"
    return "combined" if getattr(check, "combine", None) else "LIST"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--worker", help="comma-separated checks to map as one worker does")
    args = parser.parse_args(argv)
    names = args.worker.split(",") if args.worker else None
    checks = build_checks(names, True, AuditOptions(worldview="gramenism").check_settings())
    ctx = build_context(args.corpus, None, "gramenism")
    if args.worker:
        return worker(args.corpus, checks, ctx, batches=args.batches)
    records = list(
        itertools.islice(read_records(args.corpus / "records.jsonl"), BATCH * args.batches)
    )
    print(f"{'check':20} {'held as':9} {'pickled B/rec':>14} {'objects B/rec':>14}")
    for check in checks:
        parts = [
            check.map_batch(records[i : i + BATCH], ctx) for i in range(0, len(records), BATCH)
        ]
        blobs = [pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in parts]
        tracemalloc.start()
        loaded = [pickle.loads(b) for b in blobs]
        size = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del loaded
        per = len(records)
        print(
            f"{check.name:20} {held_as(check):9} {sum(map(len, blobs)) / per:14.1f} {size / per:14.1f}"
        )
    prompts = [r.prompt for r in records if is_request(r.prompt)]
    embedder = Embedder(cache_size=10**9)  # unbounded, as before issue 25's cut
    embedder.encode(prompts[:8])
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for start in range(8, len(prompts), 370):  # about one batch's request-form prompts a call
        embedder.encode(prompts[start : start + 370])
    per_text = (tracemalloc.get_traced_memory()[0] - before) / max(1, len(embedder._cache) - 8)
    tracemalloc.stop()
    distinct = len(set(prompts)) / len(records)
    print(
        f"MiniLM cache: {distinct:.4f} distinct request-form prompts a record, {per_text:.0f} bytes "
        f"a cached text: {distinct * per_text:.0f} bytes a record if every text were kept"
    )
    return 0


def worker(corpus: Path, checks: list, ctx: Any, *, batches: int) -> int:
    import psutil

    source, began = read_records(corpus / "records.jsonl"), time.time()
    for number in range(1, batches + 1):
        batch = list(itertools.islice(source, BATCH))
        for check in checks:
            check.map_batch(batch, ctx)
        if number % 5 == 0 or number == batches:
            gc.collect()
            cached = len(ctx.embedder._cache) if ctx.embedder is not None else 0
            rss = psutil.Process().memory_info().rss / 2**20
            print(
                f"{number * BATCH:9,} records  RSS {rss:6.0f} MB  MiniLM cache {cached:7,} texts  {time.time() - began:5.0f} s",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
