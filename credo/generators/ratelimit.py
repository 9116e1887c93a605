"""Client-side pacing from the providers' rate-limit headers (or explicit ``--rpm``/``--tpm``).

Each limit is a bucket refilled continuously at ``limit / 60`` per second (times a small
safety margin), so requests leave at the allowed pace instead of in bursts. A bucket holds
a second's worth, or up to what the server's holds (what remains plus what refills by the
reset: OpenAI's duration such as ``6m0s``, Anthropic's RFC 3339 time), so a provider's
burst is taken.

A request takes one request plus its estimated tokens before it is sent, what the providers
count before an answer exists: the prompt (characters per token learnt from usage, a tenth
added: an over-estimate is given back) and ``max_tokens``. When the answer comes, the
reservation is settled against the reported usage: the prompt always; the output only
against Anthropic's output limit, which its docs say is adjusted to the real output (OpenAI
counts ``max_tokens`` against TPM).

Response headers (OpenAI ``x-ratelimit-*``, Anthropic ``anthropic-ratelimit-*``) set the
limits when no explicit ones were given and pull a bucket down to what the server says
remains (only a count surely lower pulls: a count is a whole number, Anthropic's token
counts are rounded to the thousand).

Until an answer states the limits, requests leave blind at a pace that starts at one a
second and doubles every second (a probe, not a burst): a small limit answers the first
request over it at once with a 429 whose headers state the limits, so at most a request or
two meet one; a large limit is not left idle for a whole first latency (at 6 s that was a
twentieth of a two-minute run).

Requests in flight: enough to keep the pace (Little's law: the allowed rate times the
latency seen, with room for jitter; before any answer, the age of the oldest request in
flight, which the latency is at least), at most ``max_in_flight``. Without a known limit the
window is additive-increase, multiplicative-decrease: a quarter request more per success,
half on a 429. On a 429 the buckets empty and their pace drops a tenth, recovering over the
next successes; where no header stated the limits, every request also waits out the
server's Retry-After together (one pause, not one per request).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger("credo.generators.ratelimit")
MARGIN = 0.99  # pace a little under the limit: clocks and networks jitter
HEADROOM = 1.5  # requests in flight over rate x latency: latency varies request to request
PROMPT_CUSHION = 1.1  # prompt estimates err high: what is over is given back
BLIND_START = 1.0  # requests a second before any limit is known, doubling every second

# The buckets each header family feeds. Anthropic's "tokens" headers repeat whichever of its
# input and output limits is tighter, so they feed no bucket of their own.
_FAMILIES = {
    "openai": ("requests", "tokens"),
    "anthropic": ("requests", "input-tokens", "output-tokens"),
}


@dataclass
class Timer:
    """The clock and the sleep that moves it; tests pass a fake pair."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass
class _Bucket:
    per_second: float  # current pace: lowered on a 429, recovering towards target
    capacity: float
    level: float
    stamp: float
    target: float  # the limit's pace (limit / 60 x MARGIN)
    typical: float = 0.0  # what a request settles at (moving average): sizes the window
    ceiling: float = math.inf  # the most capacity the headers may teach: halved by a 429

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.per_second)
        self.stamp = now

    def give(self, amount: float) -> None:
        self.level = min(self.capacity, self.level + amount)


@dataclass(frozen=True)
class Ticket:
    """One admitted request: what it reserved and when it left."""

    cost: dict[str, float]
    started: float
    serial: int = 0  # tells apart requests that left at the same instant


@dataclass
class _Latency:
    """Seconds a request takes, as a moving average (None until one answers)."""

    seconds: float | None = None

    def add(self, seconds: float) -> None:
        seen = self.seconds
        self.seconds = seconds if seen is None else seen + 0.1 * (seconds - seen)


@dataclass
class RateLimiter:
    """Request and token buckets plus the requests-in-flight window, for one backend.

    ``rpm``/``tpm``: limits known before any answer (a server without headers); a lower
    header limit wins. ``start_window``: requests in flight while no limit is known (default
    ``max_in_flight``). ``burst``: seconds of allowance a bucket holds.
    """

    rpm: float | None = None
    tpm: float | None = None
    max_in_flight: int = 64
    start_window: int | None = None
    burst: float = 1.0
    timer: Timer = field(default_factory=Timer)
    buckets: dict[str, _Bucket] = field(default_factory=dict, init=False)
    in_flight: int = field(default=0, init=False)
    limited: int = field(default=0, init=False)  # 429s seen
    waited: float = field(default=0.0, init=False)  # seconds spent pacing

    def __post_init__(self) -> None:
        self.explicit = {k: v for k, v in (("requests", self.rpm), ("tokens", self.tpm)) if v}
        for name, limit in self.explicit.items():
            self._set_limit(name, limit)
        self.window = float(self.start_window or self.max_in_flight)
        self.paused_until = 0.0
        self.latency = _Latency()
        self.heard = False  # whether the server's headers stated any limit
        self._chars_per_token = 4.0
        self._changed = asyncio.Event()
        self._warned = False
        # Until the first answer says what the limits are, requests leave at the blind pace:
        # a full window sent at once into a small limit would come back as a wall of 429s.
        self._learnt = bool(self.buckets)
        self._blind_since: float | None = None  # when the first blind request left
        self._blind_next = 0.0  # when the next may leave
        self._flying: dict[int, float] = {}  # serial -> when it left
        self._serial = 0

    # ---- limits --------------------------------------------------------------------------
    def _set_limit(self, name: str, per_minute: float) -> None:
        per_second = per_minute * MARGIN / 60
        capacity = max(1.0, per_second * self.burst)
        bucket = self.buckets.get(name)
        if bucket is None:
            self.buckets[name] = _Bucket(
                per_second, capacity, capacity, self.timer.now(), target=per_second
            )
        elif abs(bucket.target - per_second) > 1e-9:
            bucket.per_second = min(bucket.per_second, per_second)
            bucket.target, bucket.capacity = per_second, capacity
            bucket.level = min(bucket.level, capacity)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the limits, what remains and when it resets from one response's headers."""
        self._learn()
        now = self.timer.now()
        for family, names in _FAMILIES.items():
            for name in names:
                fields = {f: _header(headers, family, name, f) for f in _FIELDS}
                limit = _number(fields["limit"])
                if not limit:
                    continue
                # an explicit limit is for servers without headers; a lower header wins
                new = name not in self.buckets
                self._set_limit(name, min(limit, self.explicit.get(name, limit)))
                self.heard = True
                bucket = self.buckets[name]
                remaining = _number(fields["remaining"])
                if remaining is None:
                    continue
                # What the count may hide: it is a whole number (Anthropic's token counts are
                # rounded to the thousand, its resets up to the second).
                rounded = family == "anthropic" and name != "requests"
                unseen = 500.0 if rounded else 1.0
                late = 1.0 if family == "anthropic" else 0.001
                reset = parse_reset(fields["reset"])
                if reset is not None:
                    # the server's bucket holds at least what surely remains plus what
                    # surely refills by the reset (the time until it is full again)
                    low = max(0.0, remaining - unseen) + max(0.0, reset - late) * bucket.target
                    self._widen(bucket, low)
                bucket.refill(now)
                if new:  # start from what the server holds, not from a second's worth
                    bucket.level = bucket.capacity
                bucket.level = min(bucket.level, remaining + unseen)

    def _widen(self, bucket: _Bucket, server_capacity: float) -> None:
        """Let a bucket hold up to what the server's holds (at most a minute's worth).

        A second's worth can be less than the ``max_tokens`` that requests in flight hold
        until their real output is settled: such a bucket admits one request at a time. And
        a provider that allows a burst (a bucket of several seconds) lets it be taken.
        Only widens: each answer's count is a lower bound of the server's capacity.
        """
        learnt = min(server_capacity, bucket.target * 60, bucket.ceiling)
        bucket.capacity = max(bucket.capacity, learnt)

    # ---- one request ---------------------------------------------------------------------
    def estimate(self, prompt_chars: int, max_tokens: int) -> dict[str, float]:
        prompt = prompt_chars / self._chars_per_token * PROMPT_CUSHION
        return {
            "requests": 1,
            "tokens": prompt + max_tokens,
            "input-tokens": prompt,
            "output-tokens": max_tokens,
        }

    def allowed_in_flight(self) -> int:
        """The window: what keeps the pace (while the limits are unknown, the blind pace
        bounds what leaves, and ``max_in_flight`` what is out at once)."""
        if not self._learnt:
            return self.max_in_flight
        window = int(self.window)
        needed = self.needed_in_flight()
        if needed > self.max_in_flight and not self._warned:
            self._warned = True
            log.warning(
                "%d requests in flight at most, but the rate limit and %.1fs latency need %d: "
                "raise --concurrency (or leave it unset) to reach the limit",
                self.max_in_flight,
                self.latency.seconds or 0.0,
                needed,
            )
        return max(1, min(self.max_in_flight, max(window, needed)))

    def needed_in_flight(self) -> int:
        """Little's law: requests in flight = rate x latency (0 while either is unknown)."""
        rates = [b.target / b.typical for b in self.buckets.values() if b.typical > 0]
        if not rates and "requests" in self.buckets:  # no request settled yet
            rates = [self.buckets["requests"].target]
        latency = self.latency.seconds
        if latency is None and self._flying:  # no answer yet: it takes at least this long
            latency = self.timer.now() - min(self._flying.values())
        if not rates or latency is None:
            return 0
        return math.ceil(min(rates) * latency * HEADROOM) + 1

    async def acquire(self, cost: dict[str, float]) -> Ticket:
        """Wait until the window has room and every bucket holds this request's cost."""
        while True:
            now = self.timer.now()
            if not self._learnt:
                wait = self._blind_next - now
                if wait <= 0 and self.in_flight < self.max_in_flight:
                    since = now if self._blind_since is None else self._blind_since
                    self._blind_since = since
                    self._blind_next = now + 1 / (BLIND_START * 2 ** (now - since))
                    return self._admit(cost, now)
                await self._sleep_or_learn(wait if wait > 0 else None)
                continue
            wait = self.paused_until - now
            if wait <= 0 and self.in_flight < self.allowed_in_flight():
                wait = 0.0
                for name, bucket in self.buckets.items():
                    bucket.refill(now)
                    need = min(cost.get(name, 0), bucket.capacity)
                    if bucket.level < need - 1e-9:  # a float's error is not worth a wait
                        wait = max(wait, (need - bucket.level) / bucket.per_second)
                if wait <= 0:  # a cost over the capacity waits for a full bucket, then owes
                    for name, bucket in self.buckets.items():
                        bucket.level -= cost.get(name, 0)
                    return self._admit(cost, now)
            elif wait <= 0:  # the window is full: wait for a request to finish
                self._changed.clear()
                await self._changed.wait()
                continue
            self.waited += wait
            await self.timer.sleep(wait)

    def _admit(self, cost: dict[str, float], now: float) -> Ticket:
        self.in_flight += 1
        self._serial += 1
        self._flying[self._serial] = now
        return Ticket(cost, now, self._serial)

    async def _sleep_or_learn(self, seconds: float | None) -> None:
        """Wait out the blind pace (None: a free slot), or less if the limits become known."""
        self._changed.clear()
        learnt = asyncio.ensure_future(self._changed.wait())
        if seconds is None:
            await learnt
            return
        self.waited += seconds
        slept = asyncio.ensure_future(self.timer.sleep(seconds))
        _, pending = await asyncio.wait({learnt, slept}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    def done(
        self, ticket: Ticket, input_tokens: int, output_tokens: int, prompt_chars: int
    ) -> None:
        """A request answered: settle its reservation with the usage, widen the window."""
        self._release(ticket)
        self.latency.add(self.timer.now() - ticket.started)
        self.window = min(self.max_in_flight, self.window + 0.25)
        for bucket in self.buckets.values():
            bucket.per_second = min(bucket.target, bucket.per_second + bucket.target * 0.01)
        cost = ticket.cost
        settled = dict(cost)
        if input_tokens > 0 and prompt_chars > 0:
            # learn the text's characters per token (moving average)
            self._chars_per_token += 0.1 * (prompt_chars / input_tokens - self._chars_per_token)
            settled["input-tokens"] = input_tokens
            settled["tokens"] = cost["tokens"] - cost["input-tokens"] + input_tokens
        if output_tokens > 0:
            settled["output-tokens"] = min(output_tokens, cost["output-tokens"])
        for name, bucket in self.buckets.items():
            bucket.give(cost.get(name, 0) - settled.get(name, 0))
            typical = settled.get(name, 0)
            bucket.typical = typical if not bucket.typical else bucket.typical * 0.9 + typical * 0.1

    def failed(
        self,
        ticket: Ticket | None,
        rate_limited: bool,
        retry_after: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A request failed (``ticket`` None: it never left); a 429 slows everyone."""
        if ticket is not None:
            self._release(ticket)
        if headers:
            self.observe(headers)
        if not rate_limited:
            return
        self.limited += 1
        self.window = max(1.0, self.window / 2)
        # Limits the server stated: its buckets are emptied and slowed below, and the request
        # itself waits its Retry-After (whole seconds: far more than one request's turn).
        # Limits guessed (--rpm, or none): everyone waits what the server asked.
        pause = 0.0 if self.heard else (1.0 if retry_after is None else retry_after)
        self.paused_until = max(self.paused_until, self.timer.now() + pause)
        for bucket in self.buckets.values():
            bucket.level = min(bucket.level, 0.0)
            bucket.per_second = max(bucket.target * 0.05, bucket.per_second * 0.9)
            # what the headers taught may overstate the server's
            bucket.ceiling = max(bucket.target * self.burst, bucket.capacity / 2)
            bucket.capacity = max(1.0, min(bucket.capacity, bucket.ceiling))
        log.info("rate limited: pausing %.2fs, in-flight window now %d", pause, int(self.window))

    def _release(self, ticket: Ticket) -> None:
        self.in_flight -= 1
        self._flying.pop(ticket.serial, None)
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
            "in_flight_needed": self.needed_in_flight(),
            "latency_s": None if self.latency.seconds is None else round(self.latency.seconds, 3),
        }


_FIELDS = ("limit", "remaining", "reset")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_reset(value: str | None, wall: float | None = None) -> float | None:
    """Seconds until a limit resets, from OpenAI's duration (``6m0s``, ``1s``, ``120ms``),
    Anthropic's RFC 3339 time (``2026-12-07T18:40:40Z``; ``wall``: the Unix time now) or
    plain seconds; None if it is none of those."""
    if not value:
        return None
    value = value.strip()
    plain = _number(value)
    if plain is not None:
        return max(0.0, plain)
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value:
        return sum(float(n) * _UNIT[u] for n, u in parts)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if wall is None else wall))


def _header(headers: Mapping[str, str], family: str, kind: str, field: str) -> str | None:
    if family == "openai":
        return headers.get(f"x-ratelimit-{field}-{kind}")
    return headers.get(f"anthropic-ratelimit-{kind}-{field}")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
