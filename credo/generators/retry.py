"""The one retry helper: exponential backoff with jitter, honouring Retry-After.

Backends only classify errors (:meth:`Backend.classify_error`); this helper decides whether
and how long to wait, stops at ``max_attempts`` or when the total budget is spent, and logs
every retry. Waits come from the environment so tests can set them to zero
(``CREDO_RETRY_BASE=0``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from credo.errors import ConfigError
from credo.generators.base import Backend, RetryDecision, backend_timeout

log = logging.getLogger("credo.generators.retry")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request. None of this belongs in a cache key."""

    max_attempts: int = 6
    base: float = 1.0  # first wait in seconds; doubled per attempt
    max_wait: float = 60.0  # cap on one wait, Retry-After included
    budget: float = 600.0  # total seconds of waiting + trying before giving up
    timeout: float = 120.0  # one request

    @classmethod
    def from_env(cls, **overrides: float | None) -> RetryPolicy:
        """Defaults < ``CREDO_RETRY_*`` env < explicit overrides (None means unset)."""
        values: dict[str, Any] = {}  # field name -> int or float, as the field wants
        for name, cast in (
            ("max_attempts", int),
            ("base", float),
            ("max_wait", float),
            ("budget", float),
            ("timeout", float),
        ):
            raw = os.environ.get(f"CREDO_RETRY_{name.upper()}")
            if raw is not None:
                try:
                    values[name] = cast(raw)
                except ValueError as exc:
                    raise ConfigError(f"CREDO_RETRY_{name.upper()}={raw!r}: not a number") from exc
                if not math.isfinite(values[name]):
                    raise ConfigError(f"CREDO_RETRY_{name.upper()}={raw!r}: not a finite number")
        values.update({k: v for k, v in overrides.items() if v is not None})
        policy = cls(**values)
        if policy.max_attempts < 1 or policy.timeout <= 0:
            raise ConfigError("retry policy: max_attempts must be >= 1 and timeout > 0")
        return policy

    def wait(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): full jitter on 2^n, or Retry-After."""
        backoff = self.base * (2 ** (attempt - 1)) * (0.5 + rng.random() / 2)
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_wait)


@dataclass
class RetryStats:
    retries: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def note(self, reason: str) -> None:
        self.retries += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1


class RetriesExhausted(Exception):
    """The last error of a request that kept failing; ``attempts`` says how often it was tried."""

    def __init__(self, error: BaseException, attempts: int, decision: RetryDecision) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error, self.attempts, self.decision = error, attempts, decision


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    backend: Backend,
    policy: RetryPolicy,
    stats: RetryStats | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    rng: random.Random | None = None,
    timed: bool = True,
) -> T:
    """Run ``call`` with ``policy.timeout`` per try, retrying what ``backend`` calls transient.

    A backend whose ``request_timeout`` attribute is None (the local model, whose queued
    requests wait behind whole batches) is never timed out here, nor is a ``call`` that times
    its own request (``timed=False``: it first waits for the rate limiter, which is no failure).
    """
    timeout = backend_timeout(backend, policy.timeout) if timed else None
    sleep = sleep or asyncio.sleep
    rng = rng or random.Random()
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            # asyncio.timeout, unlike wait_for, wraps no extra task around each try
            async with asyncio.timeout(timeout):
                return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            decision = (
                RetryDecision.TRANSIENT
                if isinstance(exc, TimeoutError)
                else backend.classify_error(exc)
            )
            if decision is RetryDecision.NO:
                raise
            wait = policy.wait(attempt, backend.retry_after(exc), rng)
            spent = time.monotonic() - started
            if attempt >= policy.max_attempts or spent + wait > policy.budget:
                raise RetriesExhausted(exc, attempt, decision) from exc
            if stats is not None:
                stats.note(decision.value)
            log.info(
                "retry %(attempt)d/%(most)d of %(model)s in %(wait).2fs after %(why)s: %(error)s",
                {
                    "attempt": attempt,
                    "most": policy.max_attempts,
                    "model": f"{backend.provider}/{backend.model}",
                    "wait": wait,
                    "why": decision.value,
                    "error": type(exc).__name__,
                },
            )
            await sleep(wait)
