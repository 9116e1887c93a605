"""A 20,000-request batch job with partial failures, through the real SDKs and fake batch APIs.

Faults: 10% of first submissions errored (500), 5% expired, the second batch lost (the
provider forgets it). Chunks of at most ``--chunk`` requests (so >= 3 chunks). Checked after
the run: every planned job has exactly one record (0 lost, 0 duplicated) and every record's
answer is the one the fake server gives for that job's own messages (0 wrong: a record that
got another job's answer would differ in persona or prompt). Cost: the run's cost against
the online price of the same tokens.

    .venv/bin/python bench/batch_scale.py [--requests 20000] [--chunk 6000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from credo.generators.run_options import GenerateOptions

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
TINY_PROMPTS = 9


def respond(messages: list[dict]) -> str:
    """An answer that depends on the whole request (persona system prompt included)."""
    text = json.dumps([[m.get("role"), m.get("content")] for m in messages], sort_keys=True)
    return "answer " + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def expected_answers(samples: int, seed: int, model: str) -> dict[str, str]:
    from credo.generators.base import SamplingParams
    from credo.generators.jobs import RunIdentity, plan_jobs
    from credo.templates.render import render_prompts
    from credo.worldviews.loader import load_worldview

    wv = load_worldview(TINY)
    identity = RunIdentity(
        wv.name, wv.spec_hash, model, SamplingParams(max_tokens=64), samples, seed
    )
    jobs = plan_jobs(wv, render_prompts(wv), identity, None)
    return {job.id: respond([m.to_json() for m in job.messages]) for job in jobs}


def run(provider: str, requests: int, chunk: int, out: Path) -> dict:
    from credo.corpora.io import read_records
    from credo.generators import generate_corpus
    from credo.generators.batch_run import BatchOptions
    from credo.testing import BatchFaults, FakeServer

    os.environ["CREDO_BATCH_MAX_REQUESTS"] = str(chunk)
    samples = -(-requests // TINY_PROMPTS)
    model = f"{provider}/bench"
    prices = out.parent / "prices.json"
    prices.write_text(json.dumps({model: {"input": 1.0, "output": 4.0}}))
    faults = BatchFaults(error_rate=0.10, expire_rate=0.05, vanish_batches={2}, seed=7)
    log: list[str] = []
    start = time.perf_counter()
    with FakeServer(respond=respond, batch_faults=faults, record=False) as server:
        base = server.openai_base_url if provider == "openai" else server.anthropic_base_url
        result = generate_corpus(
            TINY,
            out,
            options=GenerateOptions(
                model=model,
                base_url=base,
                samples=samples,
                max_tokens=64,
                use_cache=False,
                prices=prices,
                batch=True,
            ),
            progress=False,
            batch_options=BatchOptions(poll_interval=0, report=log.append),
        )
        created = len(server.batches.created)
    elapsed = time.perf_counter() - start
    expected = expected_answers(samples, 0, model)
    ids, wrong = [], 0
    for record in read_records(out):
        ids.append(record.id)
        wrong += record.messages[1].content != expected.get(record.id)
    manifest = result.manifest
    from credo.generators.pricing import load_price_table
    from credo.types import Usage

    online = load_price_table(prices).cost(
        model, Usage(manifest["tokens"]["input"], manifest["tokens"]["output"])
    )
    batch = manifest["last_run"]["batch"]
    return {
        "provider": provider,
        "planned": len(expected),
        "records": len(ids),
        "lost": len(set(expected) - set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "wrong": wrong,
        "batches_created": created,
        "chunks_first_round": -(-len(expected) // chunk),
        "results": batch["results"],
        "resubmitted": batch["resubmitted"],
        "lost_batches": batch["lost_batches"],
        "cost_usd": manifest["cost_usd"],
        "online_cost_usd": online,
        "cost_ratio": round(manifest["cost_usd"] / online, 4),
        "estimate_usd": batch["estimate_usd"],
        "seconds": round(elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=6000)
    parser.add_argument("--providers", nargs="+", default=["openai", "anthropic"])
    args = parser.parse_args()
    os.environ.setdefault("CREDO_HOME", tempfile.mkdtemp(prefix="credo-bench-"))
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-bench")
    for provider in args.providers:
        with tempfile.TemporaryDirectory() as tmp:
            row = run(provider, args.requests, args.chunk, Path(tmp) / "c")
        print(json.dumps({"load_average": os.getloadavg(), **row}), flush=True)


if __name__ == "__main__":
    main()
