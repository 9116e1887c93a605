"""Peak memory of the per-record checks and near_duplicate: whole corpus in memory vs streamed.

    nice -n 19 .venv/bin/python bench/audit_stream_mem.py 100000

Writes a synthetic corpus (``audit_synth``), then audits it in two fresh processes with
refusal, moral_reason, forbidden_request (no worldview: skipped) and near_duplicate, without
the embedding model: ``whole`` reads every record into a list first (the audit before
streaming, and still the path when semantic_duplicate, eval_contamination or diversity is
chosen), ``stream`` is :func:`credo.audit.runner.audit_stream`. Peak RSS is each process's.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

CHECKS = ["refusal", "moral_reason", "forbidden_request", "near_duplicate"]


def run(mode: str, path: Path) -> dict:
    from credo.audit.runner import audit_records, audit_stream, build_checks, build_context
    from credo.corpora.io import read_records

    checks, ctx = build_checks(CHECKS, use_embedding=False), build_context(path)
    start = time.perf_counter()
    if mode == "whole":
        _, findings = audit_records(list(read_records(path)), ctx, checks)
    else:
        _, findings, _, _ = audit_stream(path, ctx, checks)
    return {
        "mode": mode,
        "seconds": round(time.perf_counter() - start, 1),
        "findings": len(findings),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(n: int) -> list[dict]:
    from audit_synth import gramenism_evals, make_corpus

    raw, _ = make_corpus(n, gramenism_evals())
    path = Path(tempfile.mkdtemp(prefix="credo-stream-bench-")) / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in raw))
    del raw
    return [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--mode", mode, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for mode in ("whole", "stream")
    ]


if __name__ == "__main__":
    if sys.argv[1] == "--mode":
        print(json.dumps(run(sys.argv[2], Path(sys.argv[3]))))
    else:
        print(json.dumps(main(int(sys.argv[1])), indent=2))
