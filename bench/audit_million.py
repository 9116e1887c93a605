"""The full audit of a large topical synthetic corpus: wall time, peak RSS, recall per planted kind.

    nice -n 10 .venv/bin/python bench/audit_million.py 1000000 [--keep /tmp/million] [--engine local|ray]
        [--extra "--no-embedding --checks refusal,near_duplicate"] [--json result.json]

Generates the corpus with ``million_synth`` (or reuses ``--keep DIR`` when it already holds
one of that size), runs ``credo audit CORPUS --out OUT --worldview gramenism`` as a child
process, and reads ``OUT/flags.jsonl``. Peak RSS is the child's (``RUSAGE_CHILDREN``: the
largest of the child and the descendants it waited for; with ``--engine ray`` the cluster's
daemons and workers are not among them, so it is the driver's alone).

Recall per planted kind, counting a record as caught when one of these checks flags it:
near_duplicate: near_duplicate or semantic_duplicate; paraphrase: semantic_duplicate or
near_duplicate; refusal: refusal; eval_copy: eval_contamination at severity exact or
paraphrase; moral_refusal: moral_reason. Noise: per check, the flags on records that were not
planted for it (duplicate checks: records not planted as a copy).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import contextlib

from million_synth import VERSION, write_corpus

ROOT = Path(__file__).resolve().parent.parent
CATCHES = {
    "near_duplicate": ("near_duplicate", "semantic_duplicate"),
    "paraphrase": ("semantic_duplicate", "near_duplicate"),
    "refusal": ("refusal",),
    "eval_copy": ("eval_contamination",),
    "moral_refusal": ("moral_reason",),
}
COPY_CHECKS = ("near_duplicate", "semantic_duplicate")


def planted_ids(planted: dict[str, list]) -> dict[str, set[str]]:
    """Kind -> the planted record ids (copies, not their sources)."""
    ids = {}
    for kind, entries in planted.items():
        if kind in ("near_duplicate", "paraphrase"):
            ids[kind] = {copy for _, copy in entries}
        elif kind == "eval_copy":
            ids[kind] = {rid for rid, _, _ in entries}
        else:
            ids[kind] = set(entries)
    return ids


def read_flags(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Check -> record id -> that check's detail (flags.jsonl has one line per flagged record)."""
    flags: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    if not path.is_file():
        return flags
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                for check in row.get("checks", []):
                    flags[check][str(row["id"])] = (row.get("details") or {}).get(check) or {}
    return flags


def severity(detail: dict[str, Any]) -> str | None:
    return detail.get("severity") if isinstance(detail, dict) else None


def score(planted: dict[str, list], flags: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    ids = planted_ids(planted)
    recall = {}
    for kind, members in ids.items():
        caught = set()
        for check in CATCHES[kind]:
            for rid, row in flags.get(check, {}).items():
                if check == "eval_contamination" and severity(row) not in ("exact", "paraphrase"):
                    continue
                caught.add(rid)
        hit = members & caught
        entry: dict[str, Any] = {
            "planted": len(members),
            "caught": len(hit),
            "recall": round(len(hit) / len(members), 4) if members else None,
        }
        if kind == "eval_copy":
            how = {rid: h for rid, _, h in planted[kind]}
            entry["by_form"] = {
                form: f"{sum(1 for r in hit if how[r] == form)}/{sum(1 for r in members if how[r] == form)}"
                for form in ("exact", "reworded")
            }
        entry["missed_sample"] = sorted(members - caught)[:5]
        recall[kind] = entry
    copies = ids.get("near_duplicate", set()) | ids.get("paraphrase", set())
    own = {
        "refusal": ids.get("refusal", set()),
        "moral_reason": ids.get("moral_refusal", set()),
        "eval_contamination": ids.get("eval_copy", set()),
    }
    noise = {}
    for check, rows in sorted(flags.items()):
        mine = copies if check in COPY_CHECKS else own.get(check, set())
        extra = [rid for rid in rows if rid not in mine]
        entry = {"flags": len(rows), "not_planted_for_it": len(extra)}
        if check in COPY_CHECKS:  # templated refusals and repeated eval prompts resemble each other
            other = set().union(
                *(ids.get(k, set()) for k in ("refusal", "moral_refusal", "eval_copy"))
            )
            entry["of_which_other_planted"] = sum(rid in other for rid in extra)
        if check == "forbidden_request":  # a copied eval violation request is a forbidden request
            entry["on_eval_copies"] = sum(rid in ids.get("eval_copy", set()) for rid in rows)
        if check == "eval_contamination":
            entry["by_severity"] = dict(Counter(str(severity(rows[r])) for r in rows))
            entry["not_planted_exact_or_paraphrase"] = sum(
                severity(rows[r]) in ("exact", "paraphrase") for r in extra
            )
        noise[check] = entry
    return {"recall": recall, "flags": noise}


def corpus(n: int, keep: Path | None, seed: int, fmt: str) -> tuple[Path, dict[str, Any]]:
    folder = keep or Path(tempfile.mkdtemp(prefix=f"million_{n}_", dir="/tmp"))
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        same = {"records": n, "seed": seed, "format": fmt, "version": VERSION}
        if all(manifest.get(key) == value for key, value in same.items()):
            return folder, {"reused": True}
    began = time.perf_counter()
    write_corpus(n, folder, seed, fmt)
    return folder, {"reused": False, "seconds": round(time.perf_counter() - began, 1)}


def run_audit(folder: Path, out: Path, engine: str, extra: list[str]) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "credo.cli.main",
        "audit",
        str(folder),
        "--out",
        str(out),
        "--worldview",
        "gramenism",
        "--engine",
        engine,
        *extra,
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HF_HUB_OFFLINE": "1",
    }
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        tree_peak, driver_peak, worker_peak = _watch_tree(child)
        err.seek(0)
        stderr = err.read()
    wall = time.perf_counter() - began
    # ru_maxrss of children is the largest single waited-for process (with --workers, one of
    # several); the sampled sum over the audit's whole process tree is the honest total.
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "command": " ".join(shlex.quote(c) for c in command[1:]),
        "exit": child.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss_kib / 1024),
        "peak_tree_rss_mb": tree_peak,
        "peak_driver_rss_mb": driver_peak,  # the audit's own process (it runs every reduce)
        "peak_worker_rss_mb": worker_peak,  # the largest --workers process (they map)
        "stderr_tail": stderr[-1500:] if child.returncode not in (0, 1) else stderr[-300:],
    }


def _watch_tree(
    child: subprocess.Popen, every: float = 0.25
) -> tuple[int | None, int | None, int | None]:
    """Wait for ``child``, sampling the RSS of it and its descendants: the peak of their sum,
    of the child alone and of the largest descendant, in MB."""
    try:
        import psutil
    except ImportError:
        child.wait()
        return None, None, None
    peak = driver = worker = 0
    root = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            total = 0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    rss = proc.memory_info().rss
                    total += rss
                    if proc.pid == child.pid:
                        driver = max(driver, rss)
                    else:
                        worker = max(worker, rss)
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(every)
    return tuple(round(x / 2**20) for x in (peak, driver, worker))  # type: ignore[return-value]


def table(result: dict[str, Any]) -> str:
    audit = result["audit"]
    lines = [
        f"N={result['n']}  wall {audit['wall_s']} s  peak RSS {audit['peak_rss_mb']} MB (largest process), "
        f"{audit.get('peak_tree_rss_mb')} MB (all processes, sampled; driver "
        f"{audit.get('peak_driver_rss_mb')}, largest worker {audit.get('peak_worker_rss_mb')})  "
        f"exit {audit['exit']}",
        f"{'planted kind':16} {'planted':>8} {'caught':>8} {'recall':>8}",
    ]
    for kind, r in result["recall"].items():
        lines.append(f"{kind:16} {r['planted']:>8} {r['caught']:>8} {r['recall']!s:>8}")
    lines.append(f"{'check':20} {'flags':>8} {'not planted for it':>20}")
    for check, f in result["flags"].items():
        lines.append(f"{check:20} {f['flags']:>8} {f['not_planted_for_it']:>20}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument(
        "--keep",
        type=Path,
        help="corpus folder to write, or reuse when it already holds this corpus",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument(
        "--extra", default="", help="more `credo audit` arguments, one shell-quoted string"
    )
    parser.add_argument("--out", type=Path, help="audit report folder (default: beside the corpus)")
    parser.add_argument("--json", type=Path, help="write the result here too")
    args = parser.parse_args(argv)
    folder, made = corpus(args.n, args.keep, args.seed, args.format)
    out = args.out or folder.with_name(folder.name + "_audit")
    if out.is_dir():  # never score an earlier run's flags
        shutil.rmtree(out)
    audit = run_audit(folder, out, args.engine, shlex.split(args.extra))
    if audit["exit"] not in (0, 1):
        sys.exit(f"audit failed (exit {audit['exit']}):\n{audit['stderr_tail']}")
    planted = json.loads((folder / "planted.json").read_text())
    result = {
        "n": args.n,
        "corpus": str(folder),
        "corpus_made": made,
        "engine": args.engine,
        "extra": args.extra,
        "audit": audit,
        **score(planted, read_flags(out / "flags.jsonl")),
    }
    print(table(result))
    if audit["exit"] not in (0, 1):  # 1: a gate failed, which the planted problems should cause
        print(audit["stderr_tail"], file=sys.stderr)
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)
    return 0 if audit["exit"] in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
