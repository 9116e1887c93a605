"""Semantic dedup on real model sentences: wall, peak RSS, planted pairs found, spurious flags.

    .venv/bin/python bench/semantic_real.py 20000 [--keep /tmp/real20k] [--modes fast,static]
        [--semhash] [--json result.json]

Builds (or reuses) a ``real_sentence_corpus`` of N records with 200 planted one-word copies,
runs ``credo audit CORPUS --checks semantic_duplicate --embedding MODE`` as a child process
per mode, and scores ``flags.jsonl``: a planted pair is found when its copy is flagged; a
flag on any record that is not a planted copy is spurious (two records of random real
sentences are not duplicates). ``--semhash`` runs SemHash's ``self_deduplicate`` on the same
texts with credo's own static model (both read the same vectors) in this process, for the
records/s ratio (needs ``pip install semhash``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from audit_million import run_audit
from real_sentence_corpus import VERSION, write_corpus


def corpus(n: int, keep: Path | None, seed: int) -> tuple[Path, dict[str, Any]]:
    folder = keep or Path(tempfile.mkdtemp(prefix="credo-real-"))
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if (
            manifest.get("records") == n
            and manifest.get("version") == VERSION
            and not manifest.get("grammar")
        ):
            return folder, manifest
    return folder, write_corpus(n, folder, seed)


def score(folder: Path, out: Path) -> dict[str, Any]:
    pairs = json.loads((folder / "planted.json").read_text())["near_copy"]
    copies = {copy for _, copy in pairs}
    flagged = set()
    flags = out / "flags.jsonl"
    if flags.exists():
        for line in flags.read_text().splitlines():
            row = json.loads(line)
            if "semantic_duplicate" in row["checks"]:
                flagged.add(row["id"])
    return {
        "planted_found": len(copies & flagged),
        "planted": len(copies),
        "spurious_flags": len(flagged - copies),
    }


def semhash_run(folder: Path) -> dict[str, Any]:
    from model2vec import StaticModel
    from semhash import SemHash

    from credo.embedded import static_minilm_path

    rows = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    texts = [r["messages"][0]["content"] + "\n" + r["messages"][1]["content"] for r in rows]
    pairs = json.loads((folder / "planted.json").read_text())["near_copy"]
    copies = {copy for _, copy in pairs}
    began = time.perf_counter()
    model = StaticModel.from_pretrained(str(static_minilm_path()))
    semhash = SemHash.from_records(records=texts, model=model)
    result = semhash.self_deduplicate(threshold=0.9)
    wall = time.perf_counter() - began
    removed = (
        # SemHash 0.5 lists DuplicateRecord objects (the text is .record); older, the texts
        {rows[texts.index(getattr(t, "record", t))]["id"] for t in result.filtered}
        if hasattr(result, "filtered")
        else set()
    )
    return {
        "wall_s": round(wall, 1),
        "records_per_s": round(len(rows) / wall),
        "removed": len(removed),
        "planted_found": len(copies & removed),
        # every removed record that is not a planted copy is spurious (as for credo's flags)
        "spurious": len(removed - copies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", default="fast,static")
    parser.add_argument("--semhash", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    folder, manifest = corpus(args.n, args.keep, args.seed)
    results: dict[str, Any] = {
        "records": args.n,
        "distinct_sentences": manifest["distinct_sentences"],
    }
    for mode in args.modes.split(","):
        out = Path(tempfile.mkdtemp(prefix=f"credo-audit-{mode}-"))
        run = run_audit(
            folder, out, "local", ["--checks", "semantic_duplicate", "--embedding", mode]
        )
        results[mode] = {**run, **score(folder, out)}
        print(json.dumps({mode: results[mode]}), flush=True)
    if args.semhash:
        results["semhash"] = semhash_run(folder)
        print(json.dumps({"semhash": results["semhash"]}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
