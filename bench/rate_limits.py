"""Rate-limit pacing against a fake server that enforces RPM and TPM with the real headers.

The fake server runs in its own process (``python -m credo.testing --rpm R --tpm T``); each
run is a full ``generate_corpus`` through the real SDK at concurrency 64, caching off.
Allowed rate = min(RPM, TPM / tokens charged per request), where the server charges prompt
tokens + max_tokens. Achieved = requests / request-phase seconds. 429s are what the client
met (manifest ``last_run.rate_limits.rate_limited``).

    .venv/bin/python bench/rate_limits.py [--requests 5000] [--rpm 600] [--tpm 200000]
"""

from __future__ import annotations

import argparse
import json
import os
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
def fake_server(rpm: float, tpm: float, latency: float):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "credo.testing",
            "--latency",
            str(latency),
            "--rpm",
            str(rpm),
            "--tpm",
            str(tpm),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        yield line.split("fake API on ")[1].split(" ")[0]
    finally:
        process.terminate()
        process.wait()


def run(
    provider: str,
    rpm: float,
    tpm: float,
    requests: int,
    concurrency: int,
    max_tokens: int,
    latency: float,
) -> dict:
    from credo.generators import generate_corpus

    samples = -(-requests // TINY_PROMPTS)
    with tempfile.TemporaryDirectory() as tmp, fake_server(rpm, tpm, latency) as url:
        base = url + "/v1" if provider == "openai" else url
        start = time.perf_counter()
        result = generate_corpus(
            TINY,
            Path(tmp) / "c",
            options=GenerateOptions(
                model=f"{provider}/bench",
                base_url=base,
                samples=samples,
                concurrency=concurrency,
                use_cache=False,
                max_tokens=max_tokens,
            ),
            progress=False,
        )
        elapsed = time.perf_counter() - start
    run_stats = result.manifest["last_run"]
    done = run_stats["requests"]
    # the server's own count: prompt words + max_tokens per request (see credo.testing._wire)
    charged = run_stats["input_tokens"] / done + max_tokens
    allowed_per_min = min(rpm, tpm / charged)
    achieved_per_min = done / run_stats["seconds"] * 60
    limited = run_stats["rate_limits"]["rate_limited"]
    return {
        "provider": provider,
        "rpm": rpm,
        "tpm": tpm,
        "requests": done,
        "tokens_charged_per_request": round(charged, 1),
        "allowed_per_min": round(allowed_per_min, 1),
        "achieved_per_min": round(achieved_per_min, 1),
        "fraction_of_allowed": round(achieved_per_min / allowed_per_min, 3),
        "429s": limited,
        "429_share": round(limited / (done + limited), 4),
        "request_phase_s": run_stats["seconds"],
        "wall_s": round(elapsed, 1),
        "learnt_limits": run_stats["rate_limits"]["limits_per_minute"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rpm", type=float, default=600)
    parser.add_argument("--tpm", type=float, default=200_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--providers", nargs="+", default=["openai"])
    args = parser.parse_args()
    os.environ.setdefault("CREDO_HOME", tempfile.mkdtemp(prefix="credo-bench-"))
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-bench")
    for provider in args.providers:
        row = run(
            provider,
            args.rpm,
            args.tpm,
            args.requests,
            args.concurrency,
            args.max_tokens,
            args.latency,
        )
        print(json.dumps({"load_average": os.getloadavg(), **row}), flush=True)


if __name__ == "__main__":
    main()
