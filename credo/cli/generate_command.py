"""``credo generate``: a worldview or set -> a corpus folder, through one teacher model."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api, defaults
from credo.cli._output import finish, to_stderr
from credo.cli.options import (
    AsJson,
    BaseUrl,
    MaxTokens,
    Overwrite,
    Samples,
    Seed,
    TeacherModel,
    Temperature,
    finite,
    options_from,
    poll_seconds,
)
from credo.generators.documents import DocumentOptions
from credo.generators.options import GenerateOptions


def generate(
    source: str = typer.Argument(
        ..., metavar="WORLDVIEW_OR_SET", help="Shipped name or spec folder."
    ),
    model: TeacherModel = None,
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
    samples: Samples = 1,
    seed: Seed = 0,
    base_url: BaseUrl = None,
    temperature: Temperature = defaults.TEACHER_TEMPERATURE,
    max_tokens: MaxTokens = defaults.TEACHER_MAX_TOKENS,
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
        callback=poll_seconds,
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
    overwrite: Overwrite = False,
    as_json: AsJson = False,
) -> None:
    """Generate teacher answers for a worldview's prompts into --out (records, manifest, card).

    With --kind documents, --limit caps the documents and --seed seeds names and places.

    Example: credo generate gramenism --model local/smollm2 --limit 20 --out out/gramenism
    """
    options = options_from(
        GenerateOptions, locals(), documents=options_from(DocumentOptions, locals())
    )
    result = api.generate(source, out, options=options, log=to_stderr)
    finish(result, as_json, result.summary())


COMMANDS = {"generate": generate}
