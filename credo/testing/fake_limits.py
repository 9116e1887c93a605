"""Rate-limit enforcement for the fake server, with the providers' real headers.

Requests per minute and tokens per minute are token buckets refilled continuously (the
providers quantise a per-minute limit into short windows the same way); a bucket holds
``burst`` seconds' worth, so a client cannot spend a whole minute's allowance at once. A
request is charged its prompt tokens plus ``max_tokens`` (what OpenAI counts against TPM
before the answer exists); Anthropic's input and output token limits are separate buckets
charged the prompt tokens and ``max_tokens``. Over a limit: 429 with ``retry-after``. Every
answer carries OpenAI's ``x-ratelimit-*`` or Anthropic's ``anthropic-ratelimit-*`` headers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class _Bucket:
    limit: float  # per minute
    capacity: float
    level: float
    stamp: float

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.limit / 60)
        self.stamp = now

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` fits (0 if it fits now)."""
        return max(0.0, (min(cost, self.capacity) - self.level) * 60 / self.limit)

    def reset_seconds(self) -> float:
        return (self.capacity - self.level) * 60 / self.limit


class RateLimits:
    """RPM + TPM buckets shared by every request the server answers."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        burst: float = 1.0,
        headers: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock`` paces the buckets: tests pass a fake one so that what is admitted does
        not depend on how fast a loaded machine sends the requests."""
        self.rpm, self.tpm = rpm, tpm
        self._clock = clock
        self.limited = 0  # 429s sent
        self.admitted = 0
        self._lock = threading.Lock()
        self.burst = burst
        self.send_headers = headers  # False: a proxy that enforces limits but only says 429
        self._buckets: dict[str, dict[str, _Bucket]] = {}  # api -> kind -> bucket

    def _for(self, api: str) -> dict[str, _Bucket]:
        if api not in self._buckets:
            kinds = {"requests": self.rpm}
            token_kinds = ["tokens"] if api == "openai" else ["input-tokens", "output-tokens"]
            kinds.update(dict.fromkeys(token_kinds, self.tpm))
            self._buckets[api] = {}
            for kind, limit in kinds.items():
                if limit:
                    capacity = max(1.0, limit * self.burst / 60)
                    self._buckets[api][kind] = _Bucket(limit, capacity, capacity, self._clock())
        return self._buckets[api]

    def admit(self, api: str, prompt_tokens: int, max_tokens: int) -> tuple[float, dict[str, str]]:
        """(seconds to wait: 0 if admitted, headers to send) for one request."""
        costs = {
            "requests": 1,
            "tokens": prompt_tokens + max_tokens,
            "input-tokens": prompt_tokens,
            "output-tokens": max_tokens,
        }
        with self._lock:
            buckets = self._for(api)
            now = self._clock()
            for bucket in buckets.values():
                bucket.refill(now)
            wait = max((b.wait_for(costs[kind]) for kind, b in buckets.items()), default=0.0)
            if wait == 0:
                for kind, bucket in buckets.items():
                    bucket.level -= min(costs[kind], bucket.capacity)
                self.admitted += 1
            else:
                self.limited += 1
            headers = self._headers(api, buckets) if self.send_headers else {}
        if wait:
            headers["retry-after"] = f"{wait:.3f}"
            headers["retry-after-ms"] = str(int(wait * 1000) + 1)
        return wait, headers

    @staticmethod
    def _headers(api: str, buckets: dict[str, _Bucket]) -> dict[str, str]:
        headers = {}
        for kind, bucket in buckets.items():
            remaining = str(max(0, int(bucket.level)))
            reset = bucket.reset_seconds()
            if api == "openai":
                headers[f"x-ratelimit-limit-{kind}"] = str(int(bucket.limit))
                headers[f"x-ratelimit-remaining-{kind}"] = remaining
                headers[f"x-ratelimit-reset-{kind}"] = f"{reset * 1000:.0f}ms"
            else:
                stamp = datetime.fromtimestamp(time.time() + reset, UTC)
                headers[f"anthropic-ratelimit-{kind}-limit"] = str(int(bucket.limit))
                headers[f"anthropic-ratelimit-{kind}-remaining"] = remaining
                headers[f"anthropic-ratelimit-{kind}-reset"] = stamp.isoformat()
        return headers
