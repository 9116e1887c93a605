"""Pacing against the independent provider simulation (credo.testing.provider_limits_sim).

Each case serves one provider's limits in its own process and runs a full
``generate_corpus`` through the real SDK (caching off, concurrency left to credo unless
``--concurrency``). The client is told nothing: it learns the limits from the headers.
Allowed rate = the lowest of each limit over what the simulation charged a request against
it on average (requests 1; OpenAI tokens prompt + max_tokens; Anthropic input the prompt,
output the answer actually written). Fraction of allowed = requests answered / what the
simulation would have admitted over the request phase (the allowed rate for that long,
plus the bucket it starts with); 429 share = 429s the simulation sent / all it answered.
Steady = requests admitted after the first answer left the simulation (the earliest moment
a client can know the limits) / what it would have admitted from then to the last admission
(the rate for that long plus a full bucket): how full the client keeps the window once it
can know it, apart from the one latency every client waits blind at the start and the one
it waits for the last answer.

Admitted = requests admitted / what the simulation would have admitted from the start to
the last admission (the rate for that long plus a full bucket): the window while the client
had requests to send, the blind start included, the wait for the last answers left out.

Case ``rpm-openai-documents`` runs ``credo generate --kind documents`` (its three stages)
instead; its request phase is the wall time of the whole call (worldview to manifest).
Case ``rpm-openai-eval`` runs ``credo eval`` of a served model (the tiny fixture's two
requests, sampled as often as the quota asks); its request phase is the sampling's wall
time. ``--tell-limits`` gives a Q&A run the limits up front (``--rpm``/``--tpm``): no blind
start, the ceiling for a client that must still wait for its last answers.

    .venv/bin/python bench/rate_limits_sim.py [--seconds 120] [--cases rpm-openai ...]
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

from credo.generators.run_options import DocumentOptions, GenerateOptions

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
TINY_PROMPTS = 9
TINY_FACTS = 4  # a tenet, a forbidden act, a practice, a glossary term

# name -> simulation flags, max_tokens, expected allowed requests per minute (sizes the run)
CASES: dict[str, tuple[list[str], int, float]] = {
    # 300 RPM binds, enforced per second (5 at once); 1.5 s +- 0.75 s latency needs ~8 in flight
    "rpm-openai": (["--provider", "openai", "--rpm", "300", "--tpm", "2000000"], 256, 300),
    "rpm-anthropic": (["--provider", "anthropic", "--rpm", "300", "--tpm", "2000000"], 256, 300),
    # TPM binds: ~300 tokens charged a request (prompt + max_tokens) against 60k TPM
    "tpm-openai": (["--provider", "openai", "--rpm", "3000", "--tpm", "60000"], 256, 200),
    # OTPM binds on the output written (a quarter of max_tokens), not on max_tokens; the
    # bucket holds 10 s (2,000 tokens): room for the max_tokens held by requests in flight
    "otpm-anthropic": (
        [
            *("--provider", "anthropic", "--rpm", "3000", "--tpm", "2000000"),
            *("--otpm", "12000", "--output-share", "0.25", "--burst-seconds", "10"),
        ],
        256,
        187,
    ),
    # document generation (brainstorm types, then ideas, then write) at the same 300 RPM;
    # answers of 12-24 words, so a brainstorm's answer reads as a one-item list
    "rpm-openai-documents": (["--provider", "openai", "--rpm", "300", "--tpm", "2000000"], 48, 300),
    # credo eval of an API model at the same 300 RPM
    "rpm-openai-eval": (["--provider", "openai", "--rpm", "300", "--tpm", "2000000"], 256, 300),
    # a bucket of 10 s (50 requests at once): the burst the provider allows is taken
    "burst-openai": (
        ["--provider", "openai", "--rpm", "300", "--tpm", "2000000", "--burst-seconds", "10"],
        256,
        300,
    ),
}


@contextmanager
def simulation(flags: list[str], latency: float, jitter: float):
    command = [sys.executable, "-m", "credo.testing.provider_limits_sim", *flags]
    command += ["--latency", str(latency), "--jitter", str(jitter)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    tally: dict[str, int] = {}
    try:
        yield process.stdout.readline().split(" on ")[1].strip(), tally
    finally:
        process.terminate()  # it prints its tally on the way out
        out, _ = process.communicate(timeout=30)
        tally.update(json.loads(out.strip().splitlines()[-1]))


def allowed_per_minute(flags: list[str], tally: dict[str, int]) -> float:
    limit = dict(zip(flags[::2], flags[1::2], strict=True))
    n = tally["ok"]
    prompt, max_tokens, output = (
        tally[k] / n for k in ("prompt_tokens", "max_tokens", "output_tokens")
    )
    rates = [float(limit["--rpm"])]
    if limit["--provider"] == "openai":
        rates.append(float(limit["--tpm"]) / (prompt + max_tokens))
    else:
        rates.append(float(limit["--tpm"]) / prompt)
        rates.append(float(limit.get("--otpm", limit["--tpm"])) / output)
    return min(rates)


def generate(name: str, url: str, out: Path, requests: int, options: dict) -> tuple[dict, float]:
    """One case's run against the simulation at ``url``: its manifest and wall seconds."""
    from credo.generators import generate_corpus
    from credo.generators.documents import generate_documents

    started = time.perf_counter()
    if name.endswith("-eval"):
        return _evaluate(url, out, requests, options)
    if name.endswith("-documents"):
        # one type and one idea per fact (the answers are one line), so 2 x FACTS brainstorm
        # requests, then the documents: copies of each fact's idea
        docs = max(1, requests - 2 * TINY_FACTS)
        shape = DocumentOptions(
            types_per_fact=1, ideas_per_type=1, docs_per_idea=-(-docs // TINY_FACTS)
        )
        teacher = GenerateOptions(kind="documents", limit=docs, documents=shape, **options)
        manifest = generate_documents(TINY, out, options=teacher).manifest
    else:
        samples = max(1, round(requests / TINY_PROMPTS))
        teacher = GenerateOptions(samples=samples, **options)
        manifest = generate_corpus(TINY, out, options=teacher, progress=False).manifest
    return manifest, time.perf_counter() - started


def _evaluate(url: str, out: Path, requests: int, options: dict) -> tuple[dict, float]:
    """``credo eval`` of the served model: its generation stats as a run's, and wall seconds."""
    from credo.evaluation.evaluate import EvalOptions, collect_requests, evaluate

    os.environ["OPENAI_BASE_URL"] = url  # eval takes the endpoint from the environment
    items = len(collect_requests([str(TINY)]))
    samples = max(1, round(requests / items))
    started = time.perf_counter()
    eval_options = EvalOptions(samples=samples, max_new_tokens=options["max_tokens"])
    results = evaluate(options["model"], [str(TINY)], out, options=eval_options, log=lambda _: None)
    wall = time.perf_counter() - started
    generation = results.results["generation"]
    rows = [json.loads(line) for line in (out / "responses.jsonl").open()]
    generation["seconds"] = generation.get("seconds") or wall  # untimed before round 9
    queued = sorted(r.get("queued_seconds") or 0.0 for r in rows)
    generation["queued_seconds_median"] = queued[len(queued) // 2]
    generation["model_seconds_median"] = sorted(r["seconds"] for r in rows)[len(rows) // 2]
    manifest = {"last_run": generation, "counts": {"records": len(rows)}}
    return manifest, wall


def run(name: str, seconds: float, latency: float, jitter: float, **how: object) -> dict:
    flags, max_tokens, expected = CASES[name]
    provider = flags[1]
    options: dict = {"model": f"{provider}/bench", "max_tokens": max_tokens, "use_cache": False}
    if how.get("concurrency") is not None:
        options["concurrency"] = how["concurrency"]
    if how.get("tell_limits"):  # the simulation's limits, given up front
        limit = dict(zip(flags[::2], flags[1::2], strict=True))
        options.update(rpm=float(limit["--rpm"]), tpm=float(limit["--tpm"]))
    requests = round(expected * seconds / 60)
    with tempfile.TemporaryDirectory() as tmp, simulation(flags, latency, jitter) as (url, tally):
        called = time.monotonic()  # the same clock as the simulation's, in another process
        manifest, wall = generate(
            name, url, Path(tmp) / "c", requests, {**options, "base_url": url}
        )
        returned = time.monotonic()
    run_stats = manifest["last_run"]
    if name.endswith("-documents"):  # before this round documents timed no request phase
        run_stats["seconds"] = round(wall, 3)
    # what the simulation would admit over the request phase: the rate, plus the bucket
    # full at the start (burst seconds' worth)
    burst = float(dict(zip(flags[::2], flags[1::2], strict=True)).get("--burst-seconds", 1))
    allowed = allowed_per_minute(flags, tally) * (run_stats["seconds"] + burst) / 60
    achieved = tally["ok"]
    # the window once the limits can be known: after the first answer, to the last admission
    known_at, admitted_at = tally["first_answer_at"], tally["admitted_at"]
    rate = allowed_per_minute(flags, tally) / 60
    span = admitted_at[-1] - known_at
    steady = sum(t > known_at for t in admitted_at) / (rate * span + rate * burst)
    admitted = len(admitted_at) / (rate * admitted_at[-1] + rate * burst)
    answered = tally["ok"] + tally["rate_limited"]
    return {
        "case": name,
        "records": manifest["counts"]["records"],
        "allowed_per_min": round(allowed_per_minute(flags, tally), 1),
        "achieved_per_min": round(achieved / run_stats["seconds"] * 60, 1),
        "allowed_requests": round(allowed, 1),
        "fraction_of_allowed": round(achieved / allowed, 3),
        "steady_fraction": round(steady, 3),
        "admitted_fraction": round(admitted, 3),
        "first_answer_s": round(known_at, 2),
        # the call's time before the first admission (start-up, the first request's way)
        # and after the last (its answer, then the tally, manifest and card)
        "before_first_admitted_s": round(tally["start_monotonic"] - called, 2),
        "after_last_admitted_s": round(returned - tally["start_monotonic"] - admitted_at[-1], 2),
        "last_admitted_s": round(admitted_at[-1], 2),
        "429s": tally["rate_limited"],
        "429_share": round(tally["rate_limited"] / answered, 4),
        "request_phase_s": run_stats["seconds"],
        "client": run_stats.get("rate_limits"),
        **{k: v for k, v in run_stats.items() if k.endswith("seconds_median")},  # eval
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seconds", type=float, default=120, help="quota per case, at the limit")
    parser.add_argument("--latency", type=float, default=1.5)
    parser.add_argument("--jitter", type=float, default=0.75)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--tell-limits", action="store_true", help="give Q&A runs --rpm/--tpm")
    args = parser.parse_args()
    os.environ.setdefault("CREDO_HOME", tempfile.mkdtemp(prefix="credo-bench-"))
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-bench")
    for name in args.cases:
        row = run(
            name,
            args.seconds,
            args.latency,
            args.jitter,
            concurrency=args.concurrency,
            tell_limits=args.tell_limits,
        )
        print(json.dumps({"load_average": os.getloadavg(), **row}), flush=True)


if __name__ == "__main__":
    main()
