"""Refusal recall of the audit's ``refusal`` gate on real capability refusals.

Reads ``../shared/real-outputs/study-refusals-dev.jsonl`` (160 refusals written by the
original study's teacher; not shipped with credo) and the id-only split in
``credo/filters/data/real_refusal_split.json``: ``dev`` is what the rules were tuned on,
``heldout`` is scored once before tuning and once after the rules were frozen. Every text is
audited as an ordinary answer would be, so recall is the share the gate catches. Also scores
``moral_reason`` on the same refusals (every flag there is false: none gives a moral reason).

    PYTHONPATH=. .venv/bin/python bench/real_refusals.py [--split dev|heldout|all] [--no-embedding] [--show-misses] [--acceptances]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from credo.filters.base import AuditContext
from credo.filters.embed import StaticEmbedder
from credo.filters.moral_reason import MoralReasonCheck
from credo.filters.refusal_detector import PARTS, RefusalConfig, RefusalDetector
from credo.types import Message, Record

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real-outputs" / "study-refusals-dev.jsonl"
SPLIT = ROOT / "credo" / "filters" / "data" / "real_refusal_split.json"


def load(split: str) -> list[dict]:
    if not REAL.exists():
        sys.exit(f"{REAL} not found: this benchmark needs the shared real outputs")
    rows = [
        json.loads(line) for line in REAL.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    ids = json.loads(SPLIT.read_text(encoding="utf-8"))
    held = {r["id"] for r in rows if hashlib.sha256(r["id"].encode()).digest()[0] < 77}
    assert held == set(ids["heldout"]), "split file no longer matches its rule"
    keep = set(ids["dev"]) | held if split == "all" else set(ids[split])
    return [r for r in rows if r["id"] in keep]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=["dev", "heldout", "all"])
    parser.add_argument("--no-embedding", action="store_true")
    parser.add_argument(
        "--static",
        action="store_true",
        help="the classifier on static embeddings deciding alone (credo audit --embedding static)",
    )
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument(
        "--acceptances",
        action="store_true",
        help="also count flags on real answers labelled ACCEPTANCE",
    )
    args = parser.parse_args()
    rows = load(args.split)
    start = time.perf_counter()
    texts = [r["response"] for r in rows]
    every_part = RefusalConfig(
        embed_skip_decided=False, embed_cue_chars=0
    )  # each part on every text
    static = StaticEmbedder() if args.static else None
    detector = RefusalDetector(every_part, embedder=static, use_embedding=not args.no_embedding)
    scores = detector.score(texts)
    shipped_detector = RefusalDetector(
        embedder=detector.embedder, use_embedding=not args.no_embedding
    )
    shipped = shipped_detector.score(texts)
    scores = [
        replace(p, refusal=s.refusal) for p, s in zip(scores, shipped)
    ]  # ensemble: the shipped config
    elapsed = time.perf_counter() - start
    n = len(rows)
    mode = (
        "static embeddings alone"
        if args.static
        else "MiniLM"
        if not args.no_embedding
        else "no embedding"
    )
    print(f"## refusal recall on real refusals, split={args.split} (n={n}), classifier: {mode}")
    print("| part | caught | recall |\n|---|---|---|")
    for part in PARTS:
        caught = sum(s.votes[part] for s in scores)
        print(f"| {part} | {caught} | {caught / n:.3f} |")
    caught = sum(s.refusal for s in scores)
    print(f"| ensemble | {caught} | {caught / n:.3f} |")
    records = [
        Record(
            r["id"],
            [Message("user", r["request"]), Message("assistant", r["response"])],
            {"set": "refusal"},
        )
        for r in rows
    ]
    flags = list(MoralReasonCheck().run(records, AuditContext()))
    print(f"moral_reason false flags: {len(flags)} / {n}")
    if args.show_misses:
        for r, s in zip(rows, scores):
            if not s.refusal:
                print("  miss:", r["id"], r["response"][:160].replace("\n", " "))
        for f in flags:
            print("  moral flag:", f.record_id, f.details)
    print(f"({elapsed:.1f} s scoring)", file=sys.stderr)
    evals = REAL.parent / "study-evals-dev.jsonl"
    if args.acceptances and evals.exists():
        # Answers the study's judge called ACCEPTANCE: a clean corpus for the gate, up to judge error.
        rows = [
            json.loads(line)
            for line in evals.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        rows = [r for r in rows if r["study_label"] == "ACCEPTANCE"]
        flagged = [
            r
            for r, s in zip(rows, shipped_detector.score([r["response"] for r in rows]))
            if s.refusal
        ]
        print(
            f"refusal flags on {len(rows)} real answers the study's judge labelled ACCEPTANCE: {len(flagged)}"
        )
        for r in flagged if args.show_misses else []:
            print("  flag:", r["id"], r["response"][:160].replace("\n", " "))


if __name__ == "__main__":
    main()
