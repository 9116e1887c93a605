"""Pairs per second of the offline judge and of the audit's refusal check (one process).

Pairs are the XSTest fixture's answers (tests/fixtures/xstest), each made distinct by a
numbered suffix, repeated to ``--n``. Model load is timed apart from labelling.

``--records FILE`` times the refusal check instead on the first ``--n`` records of a corpus
(e.g. ``bench/million_synth.py`` output: distinct prompts and answers, as in the 1M audit),
in batches of the audit engine's size, and prints nothing else.

    .venv/bin/python bench/judge_speed.py [--n 5000]
    .venv/bin/python bench/million_synth.py 30000 /tmp/m30k
    .venv/bin/python bench/judge_speed.py --records /tmp/m30k/records.jsonl --n 20000

``--without-re2`` times the path an install without google-re2 (the ml extra) takes: ``re``
searches the refusal patterns and the judge's wording one by one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

from credo.corpora.io import read_records
from credo.filters.base import AuditContext
from credo.filters.refusal import RefusalCheck
from credo.filters.refusal_classifier import shipped
from credo.judges import OfflineJudge, Pair
from credo.types import Message, Record

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "xstest" / "xstest_sample.jsonl"


def corpus_check(path: Path, n: int) -> int:
    """Records per second of the refusal check's map on a corpus, batched as the audit does."""
    from credo.audit.engine import STREAM_BATCH

    records = list(itertools.islice(read_records(path), n))
    shipped()
    check, ctx = RefusalCheck(), AuditContext()
    start, cpu = time.perf_counter(), time.process_time()
    flagged = 0
    for i in range(0, len(records), STREAM_BATCH):
        flagged += len(check.map_batch(records[i : i + STREAM_BATCH], ctx))
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"audit refusal check on {path.name}: {len(records)} records in {wall:.2f} s wall = "
        f"{len(records) / wall:,.0f} records/s ({len(records) / used:,.0f} per CPU-second; "
        f"{flagged} flagged)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--records", type=Path, help="time the refusal check on this corpus")
    parser.add_argument("--without-re2", action="store_true", help="as if google-re2 were absent")
    args = parser.parse_args()
    if args.without_re2:
        from credo.filters import patterns, refusal_classifier

        patterns._PATTERN_SET.scan = None
        refusal_classifier._JUDGE_SET.scan = None
    if args.records:
        return corpus_check(args.records, args.n)
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    pairs = [
        Pair(rows[i % len(rows)]["request"], f"{rows[i % len(rows)]['response']} ({i})")
        for i in range(args.n)
    ]
    start = time.perf_counter()
    shipped()
    load = time.perf_counter() - start
    judge = OfflineJudge()
    start, cpu = time.perf_counter(), time.process_time()
    judge.label_many(pairs)
    judged, judged_cpu = time.perf_counter() - start, time.process_time() - cpu
    records = [
        Record(
            f"r{i}", [Message("user", p.request), Message("assistant", p.response)], {"set": "x"}
        )
        for i, p in enumerate(pairs)
    ]
    start, cpu = time.perf_counter(), time.process_time()
    flagged = sum(1 for _ in RefusalCheck().run(records, AuditContext()))
    audited, audited_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"model load {load:.2f} s")
    # On a shared box wall time swings with the load; CPU time says what one core does.
    print(
        f"offline judge: {args.n} pairs in {judged:.2f} s wall = {args.n / judged:,.0f} pairs/s "
        f"({args.n / judged_cpu:,.0f} per CPU-second)"
    )
    print(
        f"audit refusal check: {args.n} records in {audited:.2f} s wall = {args.n / audited:,.0f} "
        f"records/s ({args.n / audited_cpu:,.0f} per CPU-second; {flagged} flagged)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
