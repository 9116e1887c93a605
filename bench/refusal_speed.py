"""Time of the ``refusal`` check on 2,000 answers: every text embedded vs the shipped config.

The shipped config skips the MiniLM classifier where patterns already decided and where the
opening 150 characters hold no refusal cue word. Corpus: the 600 real eval responses and 160
real refusals in ``../shared/real-outputs`` (when present) plus synthetic Gramenist answers
from ``bench/audit_synth.py`` up to 2,000 records. The model is loaded once before timing;
each config gets a fresh embedder cache. Decisions of both configs are compared.

    PYTHONPATH=. .venv/bin/python bench/refusal_speed.py [N]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from audit_synth import gramenism_evals, make_corpus

from credo.filters.base import AuditContext
from credo.filters.embed import Embedder, load_minilm
from credo.filters.refusal import RefusalCheck
from credo.filters.refusal_detector import RefusalConfig
from credo.types import Message, Record

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-outputs"


def corpus(n: int) -> tuple[list[Record], int]:
    records = []
    for name, field in (
        ("study-evals-dev.jsonl", "request"),
        ("study-refusals-dev.jsonl", "request"),
    ):
        path = REAL / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                records.append(
                    Record(
                        row["id"],
                        [Message("user", row[field]), Message("assistant", row["response"])],
                        {},
                    )
                )
    real = len(records)
    rows, _ = make_corpus(max(0, n - real), gramenism_evals(), answer_words=150)
    records += [Record.from_json(r) for r in rows]
    return records[:n], min(real, n)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    records, real = corpus(n)
    load_minilm(256)
    results = {}
    for name, cfg in (
        ("every text embedded", RefusalConfig(embed_skip_decided=False, embed_cue_chars=0)),
        ("shipped (skip decided / no cue)", RefusalConfig()),
    ):
        ctx = AuditContext(corpus_set="gramenism", embedder=Embedder())
        start = time.perf_counter()
        flagged = {f.record_id for f in RefusalCheck(cfg).run(records, ctx)}
        results[name] = (time.perf_counter() - start, ctx.embedder.encoded_texts, flagged)
    print(f"## refusal check, {len(records)} records ({real} real)")
    print("| config | seconds | texts encoded (incl. bank) | flagged |\n|---|---|---|---|")
    for name, (secs, encoded, flagged) in results.items():
        print(f"| {name} | {secs:.1f} | {encoded} | {len(flagged)} |")
    a, b = (r[2] for r in results.values())
    print(f"decisions differ on {len(a ^ b)} records: {sorted(a ^ b)[:10]}")


if __name__ == "__main__":
    main()
