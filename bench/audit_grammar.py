"""The full audit of a small-grammar corpus (a mode-collapsed teacher): time, CPU, peak RSS.

    nice -n 5 .venv/bin/python bench/audit_grammar.py 200000 --keep /tmp/sgm200k [--extra="--workers 2"]

Builds (or reuses) ``real_sentence_corpus.py N DIR --grammar --mixed-sets``: real XSTest
requests, every answer 3-6 sentences of a four-frame grammar over 23 words, sets spread as a
generated corpus spreads them, 200 planted one-word copies. Runs ``credo audit DIR --worldview
gramenism`` as a child process (peak RSS sampled over its whole process tree, as
``audit_million.py`` does) and prints wall and CPU seconds, seconds per check, what the
semantic stage proposed and confirmed, whether it called the corpus one big cluster, and
the planted copies found. CPU seconds stand beside wall time because the box is shared: on
two idle cores the wall time would be about CPU / workers.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from audit_million import read_flags, run_audit
from real_sentence_corpus import VERSION, write_corpus


def corpus(n: int, keep: Path) -> None:
    manifest = keep / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        wanted = {"records": n, "grammar": True, "mixed_sets": True, "version": VERSION}
        if all(data.get(key) == value for key, value in wanted.items()):
            return
    write_corpus(n, keep, grammar=True, mixed_sets=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--keep", type=Path, required=True)
    parser.add_argument("--extra", default="", help="more `credo audit` arguments")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    corpus(args.n, args.keep)
    out = args.keep.with_name(args.keep.name + "_audit")
    if out.is_dir():
        shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    audit = run_audit(args.keep, out, "local", shlex.split(args.extra))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if audit["exit"] not in (0, 1):
        sys.exit(f"audit failed (exit {audit['exit']}):\n{audit['stderr_tail']}")
    report = json.loads((out / "report.json").read_text())
    semantic = report["sections"].get("semantic_duplicate", {})
    planted = json.loads((args.keep / "planted.json").read_text())["near_copy"]
    flags = read_flags(out / "flags.jsonl")
    copies = set(flags.get("near_duplicate", {})) | set(flags.get("semantic_duplicate", {}))
    found = sum(1 for _, copy in planted if copy in copies)
    result: dict[str, Any] = {
        "n": args.n,
        "extra": args.extra,
        "wall_s": audit["wall_s"],
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "peak_rss_mb": audit["peak_rss_mb"],
        "peak_tree_rss_mb": audit["peak_tree_rss_mb"],
        "check_seconds": {c["name"]: c["seconds"] for c in report["checks"]},
        "flagged": {c["name"]: c["flagged"] for c in report["checks"]},
        "semantic": {
            key: semantic.get("params", {}).get(key)
            for key in (
                "candidate_pairs",
                "candidate_records",
                "static_decided_pairs",
                "confirmed_pairs",
                "confirm_budget_rows",
                "unconfirmed_pairs",
            )
        }
        | {
            key: semantic.get(key)
            for key in ("cluster_count", "largest_cluster", "one_big_cluster")
        },
        "planted_copies_found": f"{found}/{len(planted)}",
        "command": audit["command"],
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
