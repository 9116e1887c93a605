"""``credo generate``: a worldview or set -> a corpus folder, through one teacher model."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import defaults
from credo.cli._output import JSON_HELP, echo_json
from credo.cli.options import finite
from credo.generators.corpus_run import GenerationResult
from credo.generators.documents import DocumentOptions, DocumentsResult
from credo.generators.options import GenerateOptions, run_generate


def _say(line: str) -> None:
    typer.echo(line, err=True)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    source: str = typer.Argument(
        ..., metavar="WORLDVIEW_OR_SET", help="Shipped name or spec folder."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="PROVIDER/MODEL: openai/…, anthropic/…, "
        "local/smollm2, fake/…; default from the keys set.",
    ),
    out: Path = typer.Option(..., "--out", help="Corpus folder (created; rerun to resume)."),
    limit: int | None = typer.Option(
        None,
        "--limit",
        help="Use only N prompts, spread across the prompt sources (seeded by --seed).",
    ),
    limit_order: str = typer.Option(
        defaults.LIMIT_ORDER,
        "--limit-order",
        help="How --limit picks: 'stratified' (across sources) or 'file' (the first N).",
    ),
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        help="Requests in flight at most. Default: as many as the rate limit and the "
        f"latency need (up to {defaults.PACED_MAX_IN_FLIGHT}); {defaults.CONCURRENCY} "
        "where no limit is known.",
    ),
    samples: int = typer.Option(1, "--samples", help="Answers per prompt."),
    seed: int = typer.Option(0, "--seed", help="Persona draw seed."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="API base URL: vLLM/Ollama/llama.cpp, or a proxy."
    ),
    temperature: float = typer.Option(
        defaults.TEACHER_TEMPERATURE,
        "--temperature",
        callback=finite,
        help="Teacher sampling temperature.",
    ),
    max_tokens: int = typer.Option(
        defaults.TEACHER_MAX_TOKENS, "--max-tokens", help="Longest answer, in tokens."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", callback=finite, help="Seconds per request (default 120)."
    ),
    prices: Path | None = typer.Option(None, "--prices", help="YAML/JSON price table override."),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Do not read or write the request cache."
    ),
    batch: bool = typer.Option(
        False,
        "--batch",
        help="Send through the provider's batch API "
        "(half price, results within 24 h); rerun to resume polling. With --kind "
        "documents each stage (types, ideas, documents, revisions) is one round.",
    ),
    no_wait: bool = typer.Option(
        False,
        "--no-wait",
        help="With --batch: submit, then exit; rerun (or `credo batches OUT`) later.",
    ),
    poll_interval: float = typer.Option(
        defaults.BATCH_POLL_SECONDS,
        "--poll-interval",
        callback=finite,
        help="With --batch: seconds between status polls.",
    ),
    rpm: float | None = typer.Option(
        None,
        "--rpm",
        callback=finite,
        help="Requests per minute allowed (for servers that send no rate-limit headers).",
    ),
    tpm: float | None = typer.Option(
        None, "--tpm", callback=finite, help="Tokens per minute allowed (same)."
    ),
    transport: str = typer.Option(
        "sdk",
        "--transport",
        help="openai with --base-url only: "
        "'lean' skips the SDK (less CPU per request, for vLLM etc.).",
    ),
    kind: str = typer.Option(
        "qa", "--kind", help="qa (prompt, answer records) or documents (synthetic documents)."
    ),
    types_per_fact: int = typer.Option(
        3, "--types-per-fact", help="documents: document types brainstormed per key fact."
    ),
    ideas_per_type: int = typer.Option(
        2, "--ideas-per-type", help="documents: ideas brainstormed per type."
    ),
    docs_per_idea: int = typer.Option(
        1, "--docs-per-idea", help="documents: documents written per idea."
    ),
    revise: bool = typer.Option(
        False, "--revise", help="documents: one revision pass for consistency with the spec."
    ),
    type_quota: int | None = typer.Option(
        None, "--type-quota", help="documents: most documents of one type."
    ),
    near_dup: float = typer.Option(
        0.6, "--near-dup", help="documents: reject at this 5-gram Jaccard to an accepted one."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Write into a folder holding other files (a CARD.md, ...)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Generate teacher answers for a worldview's prompts into --out (records, manifest, card).

    With --kind documents, --limit caps the documents and --seed seeds names and places.

    Example: credo generate gramenism --model local/smollm2 --limit 20 --out out/gramenism
    """
    options = GenerateOptions(
        model=model,
        kind=kind,
        limit=limit,
        limit_order=limit_order,
        concurrency=concurrency,
        samples=samples,
        seed=seed,
        base_url=base_url,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout=timeout,
        prices=prices,
        use_cache=not no_cache,
        batch=batch,
        wait=not no_wait,
        poll_interval=poll_interval,
        rpm=rpm,
        tpm=tpm,
        transport=transport,
        overwrite=overwrite,
        documents=DocumentOptions(
            types_per_fact=types_per_fact,
            ideas_per_type=ideas_per_type,
            docs_per_idea=docs_per_idea,
            revise=revise,
            type_quota=type_quota,
            near_dup=near_dup,
        ),
    )
    _done(run_generate(source, out, options=options, report=_say), as_json)


def _done(result: GenerationResult | DocumentsResult, as_json: bool) -> None:
    if as_json:
        echo_json(result)
    else:
        typer.echo(result.summary())
