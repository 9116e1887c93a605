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
    start = time.perf_counter()
    judge.label_many(pairs)
    judged = time.perf_counter() - start
    records = [
        Record(
            f"r{i}", [Message("user", p.request), Message("assistant", p.response)], {"set": "x"}
        )
        for i, p in enumerate(pairs)
    ]
    start = time.perf_counter()
    flagged = sum(1 for _ in RefusalCheck().run(records, AuditContext()))
    audited = time.perf_counter() - start
    print(f"model load {load:.2f} s")
    print(f"offline judge: {args.n} pairs in {judged:.2f} s = {args.n / judged:,.0f} pairs/s")
    print(
        f"audit refusal check: {args.n} records in {audited:.2f} s = {args.n / audited:,.0f} "
        f"records/s ({flagged} flagged)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
