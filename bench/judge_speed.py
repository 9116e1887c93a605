"""Pairs per second of the offline judge and of the audit's refusal check (one process).

Pairs are the XSTest fixture's answers (tests/fixtures/xstest), each made distinct by a
numbered suffix, repeated to ``--n``. Model load is timed apart from labelling.

    .venv/bin/python bench/judge_speed.py [--n 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from credo.filters.base import AuditContext
from credo.filters.refusal import RefusalCheck
from credo.filters.refusal_classifier import shipped
from credo.judges import OfflineJudge, Pair
from credo.types import Message, Record

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "xstest" / "xstest_sample.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
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
