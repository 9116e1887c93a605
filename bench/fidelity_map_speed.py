"""The fidelity check's map over one audit batch of a small-grammar corpus: records/s, wall and CPU.

    .venv/bin/python bench/real_sentence_corpus.py 10000 /tmp/sg10k --grammar --mixed-sets
    .venv/bin/python bench/fidelity_map_speed.py /tmp/sg10k [--batch 4096] [--repeat 3] [--profile]

Reads the first ``--batch`` records (the audit's batch size), builds the check as ``credo audit
DIR --worldview gramenism`` does, and times ``FidelityCheck.map_batch`` on that batch, each
repeat with a fresh audit context (nothing carried over from the previous pass). CPU seconds
stand beside wall time because the box is shared. ``--profile`` prints cProfile's top entries.
``--steady`` also times the next batch of the corpus in the same audit context, as an audit
reads its second batch (the detector, and what it remembers of sentences, carried over).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from itertools import islice
from pathlib import Path

from credo.corpora.io import read_records
from credo.filters.base import AuditContext
from credo.filters.fidelity import FidelityCheck
from credo.worldviews import load_worldview


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--steady", action="store_true")
    args = parser.parse_args()
    both = list(islice(read_records(args.corpus / "records.jsonl"), 2 * args.batch))
    records, following = both[: args.batch], both[args.batch :]
    wv = load_worldview("gramenism")
    check = FidelityCheck()

    def one_pass() -> dict:
        ctx = AuditContext(spec=wv.spec, canon=wv.canon)
        return check.map_batch(records, ctx)

    judged = sum(r.meta.get("set") == "gramenism" for r in records)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(one_pass)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    runs = []
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        part = one_pass()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    best_wall, best_cpu = min(w for w, _ in runs), min(c for _, c in runs)
    steady = []
    for _ in range(args.repeat if args.steady else 0):
        ctx = AuditContext(spec=wv.spec, canon=wv.canon)
        check.map_batch(records, ctx)
        wall, cpu = time.perf_counter(), time.process_time()
        check.map_batch(following, ctx)
        steady.append((time.perf_counter() - wall, time.process_time() - cpu))
    next_judged = sum(r.meta.get("set") == "gramenism" for r in following)
    print(
        json.dumps(
            {
                "records": len(records),
                "judged": judged,
                "unfaithful": len(part["unfaithful"]),
                "wall_s": [round(w, 3) for w, _ in runs],
                "cpu_s": [round(c, 3) for _, c in runs],
                "judged_per_cpu_s": round(judged / best_cpu),
                "judged_per_wall_s": round(judged / best_wall),
                **(
                    {
                        "next_batch_judged": next_judged,
                        "next_batch_cpu_s": [round(c, 3) for _, c in steady],
                        "next_batch_judged_per_cpu_s": round(
                            next_judged / min(c for _, c in steady)
                        ),
                    }
                    if steady
                    else {}
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
