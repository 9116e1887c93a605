"""``credo generate``: a worldview or set -> a corpus folder, through one teacher model."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import defaults
from credo.generators.batch_run import BatchOptions
from credo.generators.corpus_run import generate_corpus


def _say(line: str) -> None:
    typer.echo(line, err=True)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    source: str = typer.Argument(..., metavar="WORLDVIEW_OR_SET", help="Shipped name or spec folder."),
    model: str | None = typer.Option(None, "--model", help="PROVIDER/MODEL: openai/…, anthropic/…, "
                                     "local/smollm2, fake/…; default from the keys set."),
    out: Path = typer.Option(..., "--out", help="Corpus folder (created; rerun to resume)."),
    limit: int | None = typer.Option(None, "--limit", help="Use only the first N prompts."),
    concurrency: int = typer.Option(defaults.CONCURRENCY, "--concurrency", help="Requests in flight."),
    samples: int = typer.Option(1, "--samples", help="Answers per prompt."),
    seed: int = typer.Option(0, "--seed", help="Persona draw seed."),
    base_url: str | None = typer.Option(None, "--base-url", help="API base URL: vLLM/Ollama/llama.cpp, or a proxy."),
    temperature: float = typer.Option(defaults.TEACHER_TEMPERATURE, "--temperature", help="Teacher sampling temperature."),
    max_tokens: int = typer.Option(defaults.TEACHER_MAX_TOKENS, "--max-tokens", help="Longest answer, in tokens."),
    timeout: float | None = typer.Option(None, "--timeout", help="Seconds per request (default 120)."),
    prices: Path | None = typer.Option(None, "--prices", help="YAML/JSON price table override."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the request cache."),
    batch: bool = typer.Option(False, "--batch", help="Send through the provider's batch API "
                               "(half price, results within 24 h); rerun to resume polling."),
    no_wait: bool = typer.Option(False, "--no-wait", help="With --batch: submit, then exit; "
                                 "rerun (or `credo batches OUT`) later."),
    poll_interval: float = typer.Option(defaults.BATCH_POLL_SECONDS, "--poll-interval", help="With --batch: seconds "
                                        "between status polls."),
    rpm: float | None = typer.Option(None, "--rpm", help="Requests per minute allowed (for servers "
                                     "that send no rate-limit headers)."),
    tpm: float | None = typer.Option(None, "--tpm", help="Tokens per minute allowed (same)."),
    transport: str = typer.Option("sdk", "--transport", help="openai with --base-url only: "
                                  "'lean' skips the SDK (less CPU per request, for vLLM etc.)."),
) -> None:
    """Generate teacher answers for a worldview's prompts into --out (records, manifest, card).

    Example: credo generate gramenism --model local/smollm2 --limit 20 --out out/gramenism
    """
    result = generate_corpus(source, out, model=model, limit=limit, concurrency=concurrency,
                             samples=samples, seed=seed, base_url=base_url,
                             temperature=temperature, max_tokens=max_tokens, timeout=timeout,
                             prices=prices, use_cache=not no_cache, batch=batch,
                             batch_options=BatchOptions(wait=not no_wait,
                                                        poll_interval=poll_interval,
                                                        report=_say),
                             rpm=rpm, tpm=tpm, transport=transport)
    typer.echo(result.summary())
