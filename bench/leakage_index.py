"""Benchmark the leakage index on a synthetic corpus with planted terms (100 MB -> 1 GB).

Generates Zipf-distributed pseudo-English under /tmp (never in the repo), plants coined
terms at known counts, then for each size builds the index in a fresh process (so peak RSS
is that build's own), times single and batched 13-gram lookups, and checks that the exact
verification pass recovers every planted count.

    .venv/bin/python bench/leakage_index.py --sizes 100 500 1000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FILE_MB = 100
PLANTED = {"zorblaxia": 37, "plonkwell quarry": 11, "saint hannah seedwell": 5}


def _vocab(rng: np.random.Generator, size: int = 60_000) -> np.ndarray:
    letters = np.frombuffer(b"etaoinshrdlcumwfgypbvkjxqz", np.uint8)
    weights = 1 / np.arange(1, 27) ** 0.9
    words = set()
    while len(words) < size:
        length = int(rng.integers(2, 11))
        words.add(letters[rng.choice(26, length, p=weights / weights.sum())].tobytes())
    vocab = sorted(words - {b"zorblaxia", b"plonkwell", b"quarry", b"seedwell"})
    return np.array([*vocab, b"The", b"And,", b"of.\n", b"the\n\n"], dtype=object)


def generate(folder: Path, megabytes: int, seed: int = 0) -> None:
    """``megabytes`` of text in 100 MB files; planted terms go into the first file."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = _vocab(np.random.default_rng(seed))
    p = 1 / np.arange(1, len(vocab) + 1) ** 1.05
    p /= p.sum()
    for number in range(megabytes // FILE_MB):
        path = folder / f"part-{number:03d}.txt"
        if path.exists() and path.stat().st_size >= FILE_MB * 10**6:
            continue
        rng = np.random.default_rng([seed, number])  # each file reproducible on its own
        with open(path, "wb") as handle:
            written = 0
            if number == 0:
                handle.writelines(
                    b"".join(f"filler text {term} more filler.\n".encode() for _ in range(count))
                    for term, count in PLANTED.items()
                )
            while written < FILE_MB * 10**6:
                chunk = b" ".join(vocab[rng.choice(len(vocab), 1_000_000, p=p)].tolist()) + b"\n"
                handle.write(chunk)
                written += len(chunk)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def build(folder: Path, megabytes: int, home: Path, workers: int = 1) -> dict:
    os.environ["CREDO_HOME"] = str(home)
    from credo.leakage.index import IndexConfig, open_index
    from credo.leakage.readers import resolve_sources

    sources = resolve_sources(sorted(folder.glob("part-*.txt"))[: megabytes // FILE_MB])
    started, cpu_before = time.perf_counter(), _cpu_seconds()
    index = open_index(sources, IndexConfig(), rebuild=True, workers=workers)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before
    # The build's own peak, recorded before the finished index is mapped (pre-faulted file
    # pages count towards RSS but are page cache, not build memory).
    peak_mb = index.meta["peak_rss_mb"]
    return {
        "mb": index.meta["bytes"] / 1e6,
        "seconds": round(seconds, 2),
        "folder": str(index.folder),
        "mb_per_s_wall": round(index.meta["bytes"] / 1e6 / seconds, 1),
        "cpu_seconds": round(cpu, 2),
        "mb_per_cpu_s": round(index.meta["bytes"] / 1e6 / cpu, 1),
        "load_avg": os.getloadavg()[0],
        "peak_rss_mb": round(peak_mb),
        "index_mb": round(index.size_bytes() / 1e6),
        "tokens": index.meta["tokens"],
        "shards": index.shard_count,
    }


def lookups(folder: Path, megabytes: int, home: Path, workers: int = 1) -> dict:
    os.environ["CREDO_HOME"] = str(home)
    from credo import ngrams as tok
    from credo.leakage.check import term_rows
    from credo.leakage.index import IndexConfig, open_index
    from credo.leakage.readers import resolve_sources
    from credo.leakage.terms import Term

    sources = resolve_sources(sorted(folder.glob("part-*.txt"))[: megabytes // FILE_MB])
    index = open_index(sources, IndexConfig())
    sample = (folder / "part-000.txt").open("rb").read(2_000_000)[1_000_000:]
    sample = sample[sample.index(b" ") + 1 : sample.rindex(b" ")]  # whole words only
    present = tok.phrase_hashes(sample.decode("utf-8", "ignore"), 13)[:5000]
    absent = np.random.default_rng(1).integers(0, 2**63, 5000, dtype=np.uint64)
    queries = np.concatenate([present, absent])
    index.contains(queries[:100])  # warm up
    single, times = [], []
    for i in range(2000):  # median: on a shared box a preempted call is not the index's cost
        started = time.perf_counter()
        single.append(bool(index.contains(queries[i : i + 1])[0]))
        times.append(time.perf_counter() - started)
    single_ms, single_mean_ms = float(np.median(times)) * 1e3, float(np.mean(times)) * 1e3
    started = time.perf_counter()
    found = index.contains(queries)
    batched_us = (time.perf_counter() - started) / len(queries) * 1e6
    started, cpu_before = time.perf_counter(), _cpu_seconds()
    terms = [Term(t, "glossary") for t in PLANTED]
    rows = term_rows(index, sources, terms, text_field="text", min_count=1)
    verify_s, verify_cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before
    return {
        "mapped_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "single_lookup_ms": round(single_ms, 3),
        "single_lookup_mean_ms": round(single_mean_ms, 3),
        "batched_lookup_us": round(batched_us, 2),
        "present_found": int(found[: len(present)].sum()),
        "present": len(present),
        "absent_found": int(found[len(present) :].sum()),
        "planted_counts": {r["term"]: r["count"] for r in rows},
        "planted_ok": all(r["count"] == PLANTED[r["term"]] for r in rows),
        "verify_seconds": round(verify_s, 2),
        "verify_cpu_seconds": round(verify_cpu, 2),
        "single_consistent": single == found[:2000].tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 500, 1000], help="MB, multiples of 100"
    )
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "credo-bench-leakage"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="indexing processes (CPU time counts all)"
    )
    parser.add_argument("--step", choices=["build", "lookups"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    home = args.data / "home"
    if args.step:  # child process: one measurement, JSON on stdout
        step = build if args.step == "build" else lookups
        result = step(args.data / "text", args.sizes[0], home, args.workers)
        print(json.dumps(result))
        return
    started = time.perf_counter()
    generate(args.data / "text", max(args.sizes))
    print(
        f"corpus ready in {time.perf_counter() - started:.0f}s under {args.data}", file=sys.stderr
    )
    for size in args.sizes:
        result = {"size_mb": size}
        for step in ("build", "lookups"):
            command = [
                sys.executable,
                __file__,
                "--sizes",
                str(size),
                "--data",
                str(args.data),
                "--workers",
                str(args.workers),
                "--step",
                step,
            ]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result.update(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
