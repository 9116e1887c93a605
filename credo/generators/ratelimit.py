"""Client-side pacing from the providers' rate-limit headers (or explicit ``--rpm``/``--tpm``).

Each limit is a bucket refilled continuously at ``limit / 60`` per second (times a small
safety margin) and holding about a second's worth, so requests leave evenly instead of in
bursts. A request takes one request plus its estimated tokens before it is sent: the prompt
(characters / 4 until real usage teaches the ratio) plus ``max_tokens``, which is what the
providers count before an answer exists. After the answer, the input estimate is corrected
with the reported usage. Response headers (OpenAI ``x-ratelimit-*``, Anthropic
``anthropic-ratelimit-*``) set the limits when no explicit ones were given and pull the
buckets down to what the server says remains.

On a 429 every request waits out the server's Retry-After together (one pause, not one per
request) and the window of requests in flight halves; it grows back by a quarter request per
success; the buckets' pace drops by a fifth and recovers slowly (additive increase,
multiplicative decrease), so a run settles below a limit it was not told about instead of
meeting a storm of 429s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger("credo.generators.ratelimit")
MARGIN = 0.97  # pace a little under the limit: clocks and networks jitter

# header kind -> bucket name; "tokens" (OpenAI) is charged prompt + max_tokens.
_OPENAI = {"requests": "requests", "tokens": "tokens"}
_ANTHROPIC = {
    "requests": "requests",
    "input-tokens": "input-tokens",
    "output-tokens": "output-tokens",
    "tokens": "tokens",
}


@dataclass
class _Bucket:
    per_second: float  # current pace: lowered on a 429, recovering towards target
    capacity: float
    level: float
    stamp: float
    target: float  # the limit's pace (limit / 60 x MARGIN)

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_second)
        self.stamp = now


class RateLimiter:
    """Request and token buckets plus an adaptive in-flight window, for one backend."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        max_in_flight: int = 64,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``clock`` and ``sleep`` go together: a test passes a fake clock whose sleep moves it."""
        self._clock = clock
        self._sleep = sleep
        self.burst = burst
        self.explicit = {k: v for k, v in (("requests", rpm), ("tokens", tpm)) if v}
        self.buckets: dict[str, _Bucket] = {}
        for name, limit in (("requests", rpm), ("tokens", tpm)):
            if limit:
                self._set_limit(name, limit)
        self.max_in_flight = max_in_flight
        self.window = float(max_in_flight)
        self.in_flight = 0
        self.paused_until = 0.0
        self.limited = 0  # 429s seen
        self.waited = 0.0  # seconds spent pacing
        self._chars_per_token = 4.0
        self._changed = asyncio.Event()
        # Until the first answer says what the limits are, send one request at a time: a
        # full window sent blind into a small limit would come back as a wall of 429s.
        self._learnt = bool(self.buckets)

    # ---- limits --------------------------------------------------------------------------
    def _set_limit(self, name: str, per_minute: float) -> None:
        per_second = per_minute * MARGIN / 60
        capacity = max(1.0, per_second * self.burst)
        bucket = self.buckets.get(name)
        if bucket is None:
            self.buckets[name] = _Bucket(
                per_second=per_second,
                capacity=capacity,
                level=capacity,
                stamp=self._clock(),
                target=per_second,
            )
        elif abs(bucket.target - per_second) > 1e-9:
            bucket.per_second = min(bucket.per_second, per_second)
            bucket.target, bucket.capacity = per_second, capacity
            bucket.level = min(bucket.level, capacity)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the limits and what remains from one response's headers."""
        self._learn()
        now = self._clock()
        for prefix, kinds in (("x-ratelimit-", _OPENAI), ("anthropic-ratelimit-", _ANTHROPIC)):
            for kind, name in kinds.items():
                limit = _number(_header(headers, prefix, kind, "limit"))
                if not limit:
                    continue
                # an explicit limit is for servers without headers; a lower header wins
                self._set_limit(name, min(limit, self.explicit.get(name, limit)))
                remaining = _number(_header(headers, prefix, kind, "remaining"))
                bucket = self.buckets.get(name)
                if bucket is not None and remaining is not None:
                    bucket.refill(now)
                    bucket.level = min(bucket.level, remaining * MARGIN)

    # ---- one request ---------------------------------------------------------------------
    def estimate(self, prompt_chars: int, max_tokens: int) -> dict[str, float]:
        prompt = prompt_chars / self._chars_per_token
        return {
            "requests": 1,
            "tokens": prompt + max_tokens,
            "input-tokens": prompt,
            "output-tokens": max_tokens,
        }

    async def acquire(self, cost: dict[str, float]) -> None:
        """Wait until the window has room and every bucket holds this request's cost."""
        while True:
            now = self._clock()
            wait = self.paused_until - now
            window = max(1, int(self.window)) if self._learnt else 1
            if wait <= 0 and self.in_flight < window:
                wait = 0.0
                for name, bucket in self.buckets.items():
                    bucket.refill(now)
                    need = min(cost.get(name, 0), bucket.capacity)
                    if bucket.level < need - 1e-9:  # a float's error is not worth a wait
                        wait = max(wait, (need - bucket.level) / bucket.per_second)
                if wait <= 0:
                    for name, bucket in self.buckets.items():
                        bucket.level -= min(cost.get(name, 0), bucket.capacity)
                    self.in_flight += 1
                    return
            elif wait <= 0:  # the window is full: wait for a request to finish
                self._changed.clear()
                await self._changed.wait()
                continue
            self.waited += wait
            await self._sleep(wait)

    def done(self, cost: dict[str, float], input_tokens: int, prompt_chars: int) -> None:
        """A request answered: correct the input estimate, widen the window."""
        self._release()
        self.window = min(self.max_in_flight, self.window + 0.25)
        for bucket in self.buckets.values():
            bucket.per_second = min(bucket.target, bucket.per_second + bucket.target * 0.002)
        if input_tokens > 0 and prompt_chars > 0:
            # learn the text's characters per token (moving average)
            self._chars_per_token += 0.1 * (prompt_chars / input_tokens - self._chars_per_token)
            error = cost["input-tokens"] - input_tokens
            for name in ("tokens", "input-tokens"):
                token_bucket = self.buckets.get(name)
                if token_bucket is not None:
                    token_bucket.level = min(token_bucket.capacity, token_bucket.level + error)

    def failed(
        self,
        rate_limited: bool,
        retry_after: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A request failed; on a 429 everyone pauses and the window halves."""
        self._release()
        if headers:
            self.observe(headers)
        if not rate_limited:
            return
        self.limited += 1
        self.window = max(1.0, self.window / 2)
        pause = retry_after if retry_after is not None else 1.0
        self.paused_until = max(self.paused_until, self._clock() + pause)
        for bucket in self.buckets.values():
            bucket.level = min(bucket.level, 0.0)
            bucket.per_second = max(bucket.target * 0.05, bucket.per_second * 0.8)
        log.info("rate limited: pausing %.2fs, in-flight window now %d", pause, int(self.window))

    def _release(self) -> None:
        self.in_flight -= 1
        self._learn()

    def _learn(self) -> None:
        self._learnt = True
        self._changed.set()

    def to_json(self) -> dict[str, object]:
        return {
            "limits_per_minute": {
                n: round(b.target * 60 / MARGIN) for n, b in self.buckets.items()
            },
            "rate_limited": self.limited,
            "paced_seconds": round(self.waited, 2),
        }


def _header(headers: Mapping[str, str], prefix: str, kind: str, field: str) -> str | None:
    if prefix == "x-ratelimit-":
        return headers.get(f"x-ratelimit-{field}-{kind}")
    return headers.get(f"anthropic-ratelimit-{kind}-{field}")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
