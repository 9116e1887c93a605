"""Engine throughput against the fake server (100 ms latency) and cache replay speed.

The fake server runs in its own process so its threads do not compete with the engine for
the GIL. Each run is a full ``generate_corpus`` (persona draw, records, manifest) through
the real openai SDK (``--transport sdk``) or the SDK-free lean HTTP path (``lean``), caching
off. Efficiency = achieved / (C / latency).

    .venv/bin/python bench/engine_throughput.py [--requests 1000] [--concurrency 1 8 64 256]
        [--transport sdk lean]
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
from contextlib import contextmanager
from pathlib import Path

from credo.generators.run_options import GenerateOptions

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
TINY_PROMPTS = 9


@contextmanager
def fake_server(latency: float):
    """Yield (openai base URL, pid) of a fake server running in its own process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "credo.testing", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        yield line.split("openai base URL ")[1].rstrip(")\n"), process.pid
    finally:
        process.terminate()
        process.wait()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of another process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(
    out: Path,
    url: str | None,
    samples: int,
    concurrency: int,
    use_cache: bool,
    latency: float = 0.0,
    transport: str = "sdk",
) -> dict:
    """One generate_corpus run: through the openai SDK to ``url``, or the fake backend."""
    from credo.generators import generate_corpus
    from credo.testing import FakeBackend

    backend = None if url else FakeBackend("bench", delay=latency)
    cpu, start = cpu_seconds(), time.perf_counter()
    result = generate_corpus(
        TINY,
        out,
        options=GenerateOptions(
            model="openai/bench",
            base_url=url,
            samples=samples,
            concurrency=concurrency,
            use_cache=use_cache,
            transport=transport,
        ),
        progress=False,
        backend=backend,
    )
    elapsed = time.perf_counter() - start
    records = result.manifest["counts"]["records"]
    phase = result.manifest["last_run"]["seconds"] or elapsed
    return {
        "records": records,
        "seconds": round(elapsed, 2),
        "rate": round(records / elapsed, 1),
        "request_phase_s": round(phase, 2),
        "request_phase_rate": round(records / phase, 1),
        "cpu_per_record_ms": round(1000 * (cpu_seconds() - cpu) / max(records, 1), 2),
        "requests": result.manifest["last_run"]["requests"],
        "cache_hits": result.manifest["last_run"]["cache_hits"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--transport", nargs="+", default=["sdk", "lean"])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--replay", type=int, default=10000, help="records for the replay test")
    parser.add_argument("--replay-only", action="store_true", help="skip the throughput runs")
    args = parser.parse_args()
    os.environ.setdefault("CREDO_HOME", tempfile.mkdtemp(prefix="credo-bench-"))
    samples = -(-args.requests // TINY_PROMPTS)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, fake_server(args.latency) as (url, pid):
        runs = (
            [] if args.replay_only else [(t, c) for t in args.transport for c in args.concurrency]
        )
        for transport, c in runs:
            server_cpu = process_cpu_seconds(pid)
            row = run(
                Path(tmp) / f"{transport}-c{c}",
                url,
                samples,
                c,
                use_cache=False,
                transport=transport,
            )
            row["server_cpu_per_request_ms"] = round(
                1000 * (process_cpu_seconds(pid) - server_cpu) / row["records"], 2
            )
            row["ideal"] = round(c / args.latency, 1)
            row["efficiency"] = round(row["rate"] / row["ideal"], 3)
            row["request_phase_efficiency"] = round(row["request_phase_rate"] / row["ideal"], 3)
            results[f"{transport} C={c}"] = row
            print(f"{transport} C={c}: {row}", flush=True)
        # The same engine with no SDK and no HTTP: what the engine itself can sustain.
        c = max(args.concurrency)
        row = (
            {}
            if args.replay_only
            else run(Path(tmp) / "engine", None, samples, c, use_cache=False, latency=args.latency)
        )
        if row:
            row["ideal"] = round(c / args.latency, 1)
            row["efficiency"] = round(row["rate"] / row["ideal"], 3)
            row["request_phase_efficiency"] = round(row["request_phase_rate"] / row["ideal"], 3)
            results[f"engine-only C={c}"] = row
        print(f"engine only (fake backend, {args.latency}s sleep) C={c}: {row}", flush=True)
    # Replay never reaches the backend, so the cache is filled through the fake backend.
    with tempfile.TemporaryDirectory() as tmp:
        replay_samples = -(-args.replay // TINY_PROMPTS)
        results["fill"] = run(Path(tmp) / "fill", None, replay_samples, 64, use_cache=True)
        results["replay"] = run(Path(tmp) / "replay", None, replay_samples, 64, use_cache=True)
        print(f"cache replay: {results['replay']}", flush=True)
    print(json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count(), **results}))


if __name__ == "__main__":
    main()
