"""credo's static semantic dedup beside SemHash, in one process, on the same texts and vectors.

    .venv/bin/python bench/semantic_peers.py 20000 [--keep /tmp/real20k] [--repeats 5] [--cli]
        [--json result.json]

Builds (or reuses) the ``real_sentence_corpus`` of ``bench/semantic_real.py`` and loads credo's
static model once. Each repeat then times, back to back and in alternating order (credo
first on even repeats, SemHash first on odd ones, so neither always meets a warmer or a
busier box):

- credo: ``SemanticDuplicateCheck`` with ``--embedding static``'s settings through the
  library (``check.run(records, ctx)``: records in memory, the static model already loaded,
  encoding, centring, pair search and clusters all timed);
- SemHash 0.5: ``SemHash.from_records(texts, model).self_deduplicate(threshold=0.9)`` with
  the same static model object (texts in memory, encoding, index and search all timed).

Both are scored as ``semantic_real.py`` scores them: a planted pair is found when its copy
is flagged (removed); any other flagged record is spurious. The ratio is SemHash's wall over
credo's per repeat; the median is the figure. CPU seconds (all threads) are reported too: on
a shared box they say what each did, where the wall also says who else ran. ``--cli`` adds
one ``credo audit --checks semantic_duplicate --embedding static`` child process (start-up,
corpus read and report writing included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from audit_million import run_audit
from semantic_real import corpus, score


def load() -> float:
    return round(os.getloadavg()[0], 1)


def timed(run: Callable[[], set[str]]) -> tuple[set[str], float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    flagged = run()
    return flagged, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cli", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    from semhash import SemHash

    from credo.corpora.io import read_records
    from credo.filters.base import AuditContext
    from credo.filters.dedup import SemanticConfig, SemanticDuplicateCheck
    from credo.filters.embed import StaticEmbedder, load_static

    folder, manifest = corpus(args.n, args.keep, args.seed)
    records = list(read_records(folder / "records.jsonl"))
    texts = [r.prompt + "\n" + r.response for r in records]  # what SemHash reads of a record
    ids_of: dict[str, list[str]] = {}
    for text, record in zip(texts, records):
        ids_of.setdefault(text, []).append(record.id)
    copies = {copy for _, copy in json.loads((folder / "planted.json").read_text())["near_copy"]}
    model = load_static()  # one model object for both

    def credo_run() -> set[str]:
        check = SemanticDuplicateCheck(SemanticConfig(fast=True, confirm=False))
        ctx = AuditContext(static=StaticEmbedder(model))
        return {f.record_id for f in check.run(records, ctx)}

    def semhash_run() -> set[str]:
        result = SemHash.from_records(records=texts, model=model).self_deduplicate(threshold=0.9)
        return {i for dup in result.filtered for i in ids_of[dup.record]}

    runs: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        order = [("credo", credo_run), ("semhash", semhash_run)]
        row: dict[str, Any] = {"repeat": repeat}
        for name, run in order if repeat % 2 == 0 else order[::-1]:
            before = load()
            flagged, wall, cpu = timed(run)
            row[name] = {
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "records_per_s": round(len(records) / wall),
                "flagged": len(flagged),
                "planted_found": len(flagged & copies),
                "spurious": len(flagged - copies),
                "load_before": before,
            }
        row["ratio"] = round(row["semhash"]["wall_s"] / row["credo"]["wall_s"], 2)
        row["cpu_ratio"] = round(row["semhash"]["cpu_s"] / row["credo"]["cpu_s"], 2)
        print(json.dumps(row), flush=True)
        runs.append(row)
    results: dict[str, Any] = {
        "records": len(records),
        "distinct_sentences": manifest["distinct_sentences"],
        "runs": runs,
        "median_ratio": statistics.median(r["ratio"] for r in runs),
        "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in runs),
        "median_wall_s": {
            name: statistics.median(r[name]["wall_s"] for r in runs)
            for name in ("credo", "semhash")
        },
    }
    if args.cli:
        out = Path(tempfile.mkdtemp(prefix="credo-audit-static-"))
        extra = ["--checks", "semantic_duplicate", "--embedding", "static"]
        results["credo_cli"] = {**run_audit(folder, out, "local", extra), **score(folder, out)}
    summary = {k: v for k, v in results.items() if k != "runs"}
    print(json.dumps(summary), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
