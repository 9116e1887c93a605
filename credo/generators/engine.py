"""The Generator: the one wrapper that owns every cross-cutting concern of generation.

Backends translate; the Generator bounds concurrency (one semaphore per backend, at most
``backend.max_concurrency``), retries through :func:`call_with_retry`, caches successful
completions, flags teacher refusals, and counts requests, tokens and cost. The corpus
runner (:mod:`credo.generators.corpus_run`) and the evaluator both drive it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from credo.defaults import CONCURRENCY, PACED_MAX_IN_FLIGHT
from credo.errors import BackendError
from credo.filters.refusal_detector import is_refusal
from credo.generators.base import Backend, RetryDecision, SamplingParams, backend_timeout
from credo.generators.cache import GenerationCache, cache_key
from credo.generators.endpoint import endpoint_id
from credo.generators.pricing import PriceTable
from credo.generators.ratelimit import RateLimiter
from credo.generators.retry import RetriesExhausted, RetryPolicy, RetryStats, call_with_retry
from credo.generators.sdk_backend import SDKBackend
from credo.redact import scrub
from credo.types import Completion, Message, Usage


@dataclass
class GenerationStats:
    requests: int = 0  # sent to the backend (retries not counted)
    cache_hits: int = 0
    refusals: int = 0
    content_filtered: int = 0
    usage: Usage = field(default_factory=Usage)  # tokens of requests made this run
    retries: RetryStats = field(default_factory=RetryStats)
    seconds: float = 0.0  # wall time of the request phase (set by the runner)
    price_factor: float = 1.0  # 0.5 for batch runs: both providers bill batches at half price
    batch: dict[str, Any] | None = None  # batch-mode tallies (chunks, result kinds, resubmits)
    rate_limits: dict[str, Any] | None = None  # what the pacer learnt and waited

    def to_json(self, model_id: str, prices: PriceTable) -> dict[str, Any]:
        cost = prices.cost(model_id, self.usage)
        extra = {
            k: v
            for k, v in (("batch", self.batch), ("rate_limits", self.rate_limits))
            if v is not None
        }
        return {
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "retries": self.retries.retries,
            "retries_by_reason": self.retries.by_reason,
            "teacher_refusals": self.refusals,
            "content_filtered": self.content_filtered,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "cost_usd": None if cost is None else round(cost * self.price_factor, 6),
            "seconds": round(self.seconds, 3),
            **extra,
        }


@dataclass(frozen=True)
class Generation:
    completion: Completion
    cached: bool


def flag_refusal(completion: Completion, refusal_expected: bool = False) -> Completion:
    """Mark a completion that declines (by stop reason or by its words) as teacher-refused.

    Where declining is the answer asked for (the ``refusal`` set's capability refusals), only
    a provider block counts: a worded refusal is the record.
    """
    if completion.blocked:
        reason = completion.refusal_reason or completion.stop_reason
        return replace(completion, teacher_refused=True, refusal_reason=reason)
    if not refusal_expected and is_refusal(completion.text):
        return replace(completion, teacher_refused=True, refusal_reason="refusal_text")
    return completion


class Generator:
    """Retrying, caching, concurrency-bounded access to one backend."""

    def __init__(
        self,
        backend: Backend,
        params: SamplingParams,
        *,
        policy: RetryPolicy | None = None,
        cache: GenerationCache | None = None,
        concurrency: int = 8,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.backend = backend
        self.params = params
        self._params_json = params.to_json()  # asdict() per request costs more than the hash
        self.policy = policy or RetryPolicy.from_env()
        self.cache = cache
        limit = backend.max_concurrency
        self.concurrency = max(1, min(concurrency, limit) if limit else concurrency)
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._endpoint = endpoint_id(getattr(backend, "base_url", None))
        self.stats = GenerationStats()
        self._sleep = sleep  # tests record the waits instead of sleeping
        self._warm: dict[str, Completion] = {}  # prefetched hits
        self._cold: set[str] = set()  # prefetched misses: no need to ask SQLite again
        self.limiter = limiter
        if limiter is not None:
            backend.on_headers = limiter.observe

    @property
    def model_id(self) -> str:
        return f"{self.backend.provider}/{self.backend.model}"

    def key(
        self, messages: list[Message], sample_index: int, params: SamplingParams | None = None
    ) -> str:
        """The cache key: provider, endpoint, model, params, messages and sample index."""
        return cache_key(
            self.backend.provider,
            self.backend.model,
            params=self._params_json if params is None else params.to_json(),
            messages=messages,
            sample_index=sample_index,
            endpoint=self._endpoint,
        )

    def prefetch(self, keys: list[str]) -> int:
        """Read the cache for many keys at once; ``generate`` then serves them from memory."""
        if self.cache is None:
            return 0
        found = self.cache.get_many(keys)
        self._warm.update(found)
        self._cold.update(k for k in keys if k not in found)
        return len(found)

    def warm(self, key: str, completion: Completion) -> None:
        """Hold an answer got another way (a batch) for the next ``generate`` of ``key``."""
        self._warm[key] = completion

    async def generate(
        self,
        messages: list[Message],
        sample_index: int = 0,
        key: str | None = None,
        refusal_expected: bool = False,
        params: SamplingParams | None = None,
        waits: list[float] | None = None,
    ) -> Generation:
        """One completion; a refusal or content-filter stop is returned flagged, not raised.

        ``key`` is :meth:`key` of the same arguments, when the caller already computed it;
        ``refusal_expected`` when declining is the wanted answer (see :func:`flag_refusal`);
        ``params`` overrides the generator's for this call (a step's structured output);
        ``waits`` hears the seconds spent queued (for a free slot, then for the pacer, each
        try), so a caller that times the call can tell the queue from the model.
        """
        if params is not None and params != self.params:
            key = self.key(messages, sample_index, params)
        params = params or self.params
        # The key addresses the cache and answers held by warm(): no hashing without either.
        if self.cache is not None or self._warm:
            key = key or self.key(messages, sample_index)
            hit = self._warm.pop(key, None)
            if hit is None and self.cache is not None and key not in self._cold:
                hit = self.cache.get(key)
            if hit is not None:
                self.stats.cache_hits += 1
                return Generation(hit, cached=True)
        queued = time.perf_counter()
        async with self._semaphore:
            if waits is not None:
                waits.append(time.perf_counter() - queued)
            self.stats.requests += 1
            try:
                completion = await call_with_retry(
                    lambda: self._call(messages, params, waits),
                    self.backend,
                    policy=self.policy,
                    stats=self.stats.retries,
                    sleep=self._sleep,
                    timed=self.limiter is None,  # a paced try times itself (see _call)
                )
            except RetriesExhausted as exc:
                raise BackendError(
                    f"{self.model_id}: gave up after {exc.attempts} attempts "
                    f"({exc.decision.value}: {type(exc.error).__name__}: {_short(exc.error)})"
                ) from exc
            except BackendError:
                raise
            except Exception as exc:
                raise BackendError(
                    f"{self.model_id}: request failed and is not retryable "
                    f"({type(exc).__name__}: {_short(exc)})"
                ) from exc
        completion = flag_refusal(_sane_usage(completion), refusal_expected)
        self.stats.usage = self.stats.usage + completion.usage
        if completion.teacher_refused:
            self.stats.refusals += 1
            self.stats.content_filtered += completion.blocked
        elif self.cache is not None and key is not None:  # key is set whenever a cache is
            self.cache.put(key, completion)
        return Generation(completion, cached=False)

    async def _call(
        self, messages: list[Message], params: SamplingParams, waits: list[float] | None
    ) -> Completion:
        """One try, paced by the rate limiter when there is one."""
        limiter = self.limiter
        if limiter is None:
            return await self.backend.generate(messages, params)
        chars = sum(len(m.content) for m in messages)
        paced = time.perf_counter()
        ticket = await limiter.acquire(limiter.estimate(chars, params.max_tokens))
        if waits is not None:
            waits.append(time.perf_counter() - paced)
        try:
            # timed from here: waiting for the pace is not the request's time
            async with asyncio.timeout(backend_timeout(self.backend, self.policy.timeout)):
                completion = await self.backend.generate(messages, params)
        except Exception as exc:
            limited = (
                not isinstance(exc, TimeoutError)
                and self.backend.classify_error(exc) is RetryDecision.RATE_LIMIT
            )
            headers = getattr(self.backend, "response_headers", lambda e: None)(exc)
            retry_after = self.backend.retry_after(exc) if limited else None
            limiter.failed(ticket, limited, retry_after, headers)
            raise
        except BaseException:  # cancelled: give the slot back
            limiter.failed(ticket, False, None)
            raise
        usage = completion.usage
        limiter.done(ticket, usage.input_tokens, usage.output_tokens, chars)
        return completion

    def record_pacing(self) -> None:
        """Put what the pacer learnt and waited in the run's stats (nothing when unpaced)."""
        if self.limiter is not None:
            self.stats.rate_limits = self.limiter.to_json()

    async def aclose(self) -> None:
        await self.backend.aclose()


def paced_generator(
    backend: Backend,
    params: SamplingParams,
    *,
    concurrency: int | None,
    rpm: float | None = None,
    tpm: float | None = None,
    policy: RetryPolicy | None = None,
    cache: GenerationCache | None = None,
) -> Generator:
    """The Generator of a run of many teacher requests, paced by the rate limit where one can
    be known: ``rpm``/``tpm`` given, or a backend that reads the provider's rate-limit headers
    (the SDK backends). Paced, the requests in flight are what the limit and the latency need
    (up to ``PACED_MAX_IN_FLIGHT``); ``concurrency`` caps them, and the pacer warns when the
    cap holds the rate under the limit. Unpaced: ``concurrency`` (default ``CONCURRENCY``)."""
    if not (rpm or tpm or isinstance(backend, SDKBackend)):
        in_flight = concurrency or CONCURRENCY
        return Generator(backend, params, policy=policy, cache=cache, concurrency=in_flight)
    limiter = RateLimiter(
        rpm=rpm,
        tpm=tpm,
        max_in_flight=concurrency or PACED_MAX_IN_FLIGHT,
        start_window=None if concurrency else CONCURRENCY,
    )
    return Generator(
        backend,
        params,
        policy=policy,
        cache=cache,
        concurrency=limiter.max_in_flight,
        limiter=limiter,
    )


def _sane_usage(completion: Completion) -> Completion:
    """A server's usage field of the wrong type (a string, a float, negative) counts as 0 tokens."""

    def count(value: object) -> int:
        if isinstance(value, float) and value.is_integer() and value >= 0:
            return int(value)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

    usage = Usage(count(completion.usage.input_tokens), count(completion.usage.output_tokens))
    return completion if usage == completion.usage else replace(completion, usage=usage)


def _short(exc: BaseException, limit: int = 200) -> str:
    text = scrub(" ".join(str(exc).split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."
