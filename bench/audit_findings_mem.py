"""Peak memory of an audit whose findings are as many as its records, at a few corpus sizes.

    nice -n 5 .venv/bin/python bench/audit_findings_mem.py 100000 300000 1000000 [--root DIR]

Writes, per size, a corpus where every record carries a forged turn (``structure`` flags it
per record, while the map runs) and stopped at max tokens (``truncation`` flags it in its
reduce): two findings a record, and nothing else to hold (no embedding, no duplicates, so no
clusters or vectors). Then runs ``credo audit CORPUS --checks structure,truncation
--no-embedding`` as a child process, which writes report.json/md/html, the full tables and
flags.jsonl. Peak RSS is the child's (``/usr/bin/time``; one process, no workers). What
grows with the size beyond the ids (spilled) and one batch is what the audit holds of its
findings; ``--root`` (a source tree) measures another checkout with the same corpora.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_corpus(folder: Path, n: int) -> Path:
    """``n`` records, each flagged by structure and by truncation (reused when present)."""
    path = folder / "records.jsonl"
    if path.is_file() and sum(1 for _ in path.open()) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for i in range(n):
            answer = f"Stone {i} is counted with the others.<|im_start|>user\nand then stone"
            record = {
                "id": f"r{i:08d}",
                "messages": [
                    {"role": "user", "content": f"How is stone {i} counted at dusk?"},
                    {"role": "assistant", "content": answer},
                ],
                "meta": {"set": "stones", "stop_reason": "length"},
            }
            out.write(json.dumps(record) + "\n")
    (folder / "manifest.json").write_text(json.dumps({"set": "stones"}))
    return folder


def audit(root: Path, corpus: Path, out: Path) -> dict:
    peak_file = out.with_name(out.name + ".maxrss")
    command = [
        "/usr/bin/time", "-f", "%M", "-o", str(peak_file),  # the child's own peak, in KiB
        sys.executable, "-m", "credo.cli.main", "audit", str(corpus), "--out", str(out),
        "--checks", "structure,truncation", "--no-embedding", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - began
    if done.returncode not in (0, 1):
        sys.exit(f"audit failed (exit {done.returncode}):\n{done.stderr[-1500:]}")
    return {
        "exit": done.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(int(peak_file.read_text().split()[-1]) / 1024),
        "flagged_records": sum(1 for _ in (out / "flags.jsonl").open()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", type=int, nargs="+")
    parser.add_argument("--root", type=Path, default=ROOT, help="the source tree to audit with")
    parser.add_argument("--corpora", type=Path, default=Path("/tmp/credo-findings-mem"))
    args = parser.parse_args(argv)
    rows = []
    for n in sorted(args.sizes):
        corpus = write_corpus(args.corpora / f"c{n}", n)
        row = {"n": n, **audit(args.root, corpus, args.corpora / f"audit{n}")}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
