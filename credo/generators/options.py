"""The options of ``credo generate`` as data, and the one call both the CLI and
``credo.generate`` make: question-answer corpora or synthetic documents, online or batched."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo import defaults
from credo.errors import ConfigError
from credo.generators.batch_run import BatchOptions
from credo.generators.corpus_run import GenerationResult, generate_corpus
from credo.generators.documents import DocumentOptions, DocumentsResult, generate_documents

# Settings only the question-answer path has (documents go through the engine's retries and cache).
QA_ONLY = {
    "limit_order": defaults.LIMIT_ORDER,
    "rpm": None,
    "tpm": None,
    "transport": "sdk",
}


@dataclass(frozen=True, kw_only=True)
class GenerateOptions:
    """``kind``: ``qa`` (prompt, answer records) or ``documents`` (synthetic documents, shaped
    by ``documents``). ``batch`` sends through the provider's batch API; ``wait=False``
    submits and returns (a rerun collects)."""

    model: str | None = None
    kind: str = "qa"
    limit: int | None = None
    limit_order: str = defaults.LIMIT_ORDER
    concurrency: int | None = None  # None: as the rate limit needs (see generate_corpus)
    samples: int = 1
    seed: int = 0
    base_url: str | None = None
    temperature: float = defaults.TEACHER_TEMPERATURE
    max_tokens: int = defaults.TEACHER_MAX_TOKENS
    timeout: float | None = None
    prices: str | Path | None = None
    use_cache: bool = True
    batch: bool = False
    wait: bool = True
    poll_interval: float = defaults.BATCH_POLL_SECONDS
    rpm: float | None = None
    tpm: float | None = None
    transport: str = "sdk"
    overwrite: bool = False  # write into a folder holding other files (a CARD.md, ...)
    documents: DocumentOptions = field(default_factory=DocumentOptions)


def run_generate(
    source: str | Path,
    out: str | Path,
    *,
    options: GenerateOptions | None = None,
    progress: bool = True,
    report: Callable[[str], None] = print,
) -> GenerationResult | DocumentsResult:
    """Generate (or resume) a corpus for ``source`` into ``out``; ``report`` hears batch news."""
    o = options or GenerateOptions()
    batch = BatchOptions(wait=o.wait, poll_interval=o.poll_interval, report=report)
    common: dict[str, Any] = {
        "model": o.model,
        "limit": o.limit,
        "concurrency": o.concurrency,
        "base_url": o.base_url,
        "temperature": o.temperature,
        "max_tokens": o.max_tokens,
        "timeout": o.timeout,
        "prices": o.prices,
        "use_cache": o.use_cache,
        "batch": o.batch,
        "batch_options": batch,
        "overwrite": o.overwrite,
    }
    if o.kind == "documents":
        _refuse_qa_only(o)
        documents = dataclasses.replace(o.documents, seed=o.seed)
        # documents: no pacer, so no rate to size the requests in flight by
        common["concurrency"] = defaults.CONCURRENCY if o.concurrency is None else o.concurrency
        return generate_documents(source, out, options=documents, **common)
    if o.kind != "qa":
        raise ConfigError(f"--kind {o.kind}: use qa or documents")
    qa = {name: getattr(o, name) for name in QA_ONLY}
    return generate_corpus(
        source, out, seed=o.seed, samples=o.samples, progress=progress, **common, **qa
    )


def _refuse_qa_only(o: GenerateOptions) -> None:
    used = [name for name, default in QA_ONLY.items() if getattr(o, name) != default]
    if used:
        flags = ", ".join("--" + name.replace("_", "-") for name in used)
        raise ConfigError(
            f"{flags}: not supported with --kind documents yet - "
            "drop it (documents go through the engine's retries and cache)"
        )
