"""What a generation run is asked to do, as data: :class:`GenerateOptions` (the flags of
``credo generate``) and the :class:`DocumentOptions` that shape synthetic documents.

The CLI builds them, ``credo.generate`` takes them, and so do the two runs beneath it
(:func:`~credo.generators.corpus_run.generate_corpus`,
:func:`~credo.generators.documents.generate_documents`), each checking them the same way."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from credo import defaults
from credo.errors import ConfigError
from credo.generators.base import Backend
from credo.generators.batch_run import BatchOptions
from credo.generators.endpoint import endpoint_id
from credo.generators.registry import BackendFactory, load_teacher
from credo.generators.retry import RetryPolicy

# Settings only the question-answer run has (documents go through the engine's retries and cache).
QA_ONLY = {
    "limit_order": defaults.LIMIT_ORDER,
    "rpm": None,
    "tpm": None,
    "transport": "sdk",
    "top_p": None,
}
# The largest value each count may take: beyond these a run would plan for ever, not fail.
MAX_COUNTS = {
    "limit": 10**9,
    "concurrency": 10_000,
    "samples": 10_000,
    "max_tokens": 10_000_000,
}


@dataclass(frozen=True, kw_only=True)
class DocumentOptions:
    types_per_fact: int = 3
    ideas_per_type: int = 2
    docs_per_idea: int = 1
    revise: bool = False
    type_quota: int | None = None  # most documents of one type (None: no cap)
    near_dup: float = 0.6  # reject a document this similar (5-gram Jaccard) to an accepted one
    seed: int = 0  # a run sets it from GenerateOptions.seed (one seed per run)

    def check(self) -> None:
        for name in ("types_per_fact", "ideas_per_type", "docs_per_idea"):
            if not 1 <= getattr(self, name) <= 1000:  # a teacher lists at most a few dozen
                raise ConfigError(
                    f"--{name.replace('_', '-')} {getattr(self, name)}: must be from 1 to 1000"
                )
        if self.type_quota is not None and self.type_quota < 1:
            raise ConfigError(f"--type-quota {self.type_quota}: must be at least 1")
        if not 0 < self.near_dup <= 1:
            raise ConfigError(f"--near-dup {self.near_dup}: must be in (0, 1]")


@dataclass(frozen=True, kw_only=True)
class GenerateOptions:
    """``kind``: ``qa`` (prompt, answer records) or ``documents`` (synthetic documents, shaped
    by ``documents``). ``batch`` sends through the provider's batch API; ``wait=False``
    submits and returns (a rerun collects). ``rpm``/``tpm`` pace the requests where the
    provider's headers do not; ``transport="lean"`` sends openai requests to a self-hosted
    ``base_url`` without the SDK. ``overwrite`` writes into a folder holding other files (a
    ``CARD.md``, ...)."""

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
    top_p: float | None = None
    timeout: float | None = None
    prices: str | Path | None = None
    use_cache: bool = True
    batch: bool = False
    wait: bool = True
    poll_interval: float = defaults.BATCH_POLL_SECONDS
    rpm: float | None = None
    tpm: float | None = None
    transport: str = "sdk"
    overwrite: bool = False
    documents: DocumentOptions = field(default_factory=DocumentOptions)

    def check(self) -> None:
        """Every number in range and the base URL well formed, before a folder is made."""
        for name, most in MAX_COUNTS.items():
            value = getattr(self, name)
            if value is not None and not 1 <= value <= most:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} {value}: must be a whole number from 1 to {most:,}")
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigError(f"--timeout {self.timeout}: must be a positive number of seconds")
        for name in ("rpm", "tpm"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ConfigError(
                    f"--{name} {getattr(self, name)}: must be a positive number per minute"
                )
        for name in ("temperature", "top_p", "timeout", "rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} {value}: must be a finite number >= 0")
        endpoint_id(self.base_url)  # a bad --base-url fails before the folder is made

    def teacher(
        self, backend: Backend | None, registry: dict[str, BackendFactory] | None
    ) -> tuple[RetryPolicy, Backend]:
        """The run's retry policy and teacher: ``backend`` as given, or ``model`` loaded from
        ``registry`` with these options' endpoint, timeout, transport and concurrency."""
        extra = {} if self.transport == "sdk" else {"transport": self.transport}
        return load_teacher(
            backend,
            self.model,
            registry,
            base_url=self.base_url,
            timeout=self.timeout,
            concurrency=self.concurrency,
            **extra,
        )

    def batch_polling(self, report: Callable[[str], None] = print) -> BatchOptions:
        """How a batch run polls: ``wait`` for the results, every ``poll_interval`` seconds."""
        return BatchOptions(wait=self.wait, poll_interval=self.poll_interval, report=report)


def refuse_qa_only(options: GenerateOptions) -> None:
    """Documents go through the engine's retries and cache: the question-answer run's own
    settings are refused, not ignored."""
    used = [name for name, default in QA_ONLY.items() if getattr(options, name) != default]
    if used:
        flags = ", ".join("--" + name.replace("_", "-") for name in used)
        raise ConfigError(
            f"{flags}: not supported with --kind documents yet - "
            "drop it (documents go through the engine's retries and cache)"
        )
