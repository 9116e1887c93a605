"""The fidelity check's map over audit batches of a small-grammar corpus: records/s, wall and CPU.

    .venv/bin/python bench/real_sentence_corpus.py 20000 /tmp/sg20k --grammar --mixed-sets
    .venv/bin/python bench/fidelity_map_speed.py /tmp/sg20k [--batch 4096] [--repeat 3] [--profile]

Builds the check as ``credo audit DIR --worldview gramenism`` does, maps the corpus's first
batch once to warm up (patterns compiled, shipped worldviews loaded: once per process in an
audit), then times ``FidelityCheck.map_batch`` on each of the next ``--repeat`` batches, each
with a fresh audit context. Each timed batch is text the process has not read before, so no
cache of an earlier pass flatters it (sentences of the grammar do recur across batches, as
they do in an audit). CPU seconds stand beside wall time because the box is shared.
``--profile`` prints cProfile's top entries for the first timed batch.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from itertools import islice
from pathlib import Path
from typing import Any

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
    args = parser.parse_args()
    wanted = (1 + args.repeat) * args.batch
    records = list(islice(read_records(args.corpus / "records.jsonl"), wanted))
    if len(records) < wanted:
        raise SystemExit(f"{args.corpus}: {len(records)} records, need {wanted}")
    batches = [records[i : i + args.batch] for i in range(0, wanted, args.batch)]
    wv = load_worldview("gramenism")
    check = FidelityCheck()

    def one_pass(batch: list[Any]) -> dict[str, Any]:
        return check.map_batch(batch, AuditContext(spec=wv.spec, canon=wv.canon))

    one_pass(batches[0])  # warm-up
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(one_pass, batches[1])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    runs = []
    for batch in batches[1:]:
        judged = sum(r.meta.get("set") == "gramenism" for r in batch)
        wall, cpu = time.perf_counter(), time.process_time()
        part = one_pass(batch)
        spent_wall, spent_cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs.append((judged, len(part["unfaithful"]), spent_wall, spent_cpu))
    judged = sum(r[0] for r in runs)
    print(
        json.dumps(
            {
                "batches": [
                    {"judged": j, "unfaithful": u, "wall_s": round(w, 3), "cpu_s": round(c, 3)}
                    for j, u, w, c in runs
                ],
                "judged_per_cpu_s": round(judged / sum(r[3] for r in runs)),
                "judged_per_wall_s": round(judged / sum(r[2] for r in runs)),
            }
        )
    )


if __name__ == "__main__":
    main()
