"""Rate-limit pacing: the fake server's real headers and 429s, read through the real SDKs."""

from __future__ import annotations

import asyncio
import threading

import pytest

from credo.errors import ConfigError
from credo.generators.corpus_run import generate_corpus
from credo.generators.ratelimit import MARGIN, RateLimiter
from credo.testing import FakeServer

PROVIDERS = ["openai", "anthropic"]


class FakeClock:
    """Seconds that pass only when told: ``tick`` per reading, or what ``sleep`` is asked.

    The fake server's buckets read it once per request, so what they admit depends on the
    order of arrivals only, never on how fast a loaded machine sends them.
    """

    def __init__(self, tick: float = 0.0) -> None:
        self.now, self.tick = 0.0, tick
        self._lock = threading.Lock()  # the server reads it from its handler threads

    def __call__(self) -> float:
        with self._lock:
            self.now += self.tick
            return self.now

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")


def _run(spec, out, server, provider, **options):
    base = server.openai_base_url if provider == "openai" else server.anthropic_base_url
    return generate_corpus(
        spec,
        out,
        model=f"{provider}/teacher",
        base_url=base,
        progress=False,
        use_cache=False,
        max_tokens=32,
        **options,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_headers_set_the_limits(provider, tiny_spec, tmp_path):
    # Two minutes' allowance in the bucket: no 429 whatever the machine's speed; the
    # pacing itself is tested on a fake clock below.
    with FakeServer(rpm=3000, tpm=1_000_000, burst=120) as server:
        result = _run(tiny_spec, tmp_path / "c", server, provider, samples=6, concurrency=16)
    assert result.manifest["counts"]["records"] == 54
    learnt = result.manifest["last_run"]["rate_limits"]
    assert learnt["limits_per_minute"]["requests"] == 3000
    token_kinds = {"tokens"} if provider == "openai" else {"input-tokens", "output-tokens"}
    assert token_kinds <= set(learnt["limits_per_minute"])


def test_pacing_spaces_requests_at_the_learnt_rate():
    clock = FakeClock()

    async def go():
        limiter = RateLimiter(clock=clock, sleep=clock.sleep)
        limiter.observe(
            {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "0"}
        )
        cost = limiter.estimate(40, 10)
        for _ in range(20):
            await limiter.acquire(cost)
            limiter.done(cost, 10, 40)
        return limiter

    limiter = asyncio.run(go())
    assert clock.now == pytest.approx(20 / (600 * MARGIN / 60), rel=1e-3)
    assert limiter.waited == pytest.approx(clock.now, rel=1e-3)


def test_a_429_pauses_everyone_and_halves_the_window(tiny_spec, tmp_path):
    # The client is told a limit far above the server's, which sends no rate-limit headers
    # (a proxy): it meets 429s and must slow down. The server's clock moves 0.05 s per
    # request: it refills half a request per arrival, so 36 requests must meet 429s.
    with FakeServer(rpm=600, limit_headers=False, limit_clock=FakeClock(tick=0.05)) as server:
        result = _run(
            tiny_spec, tmp_path / "c", server, "openai", samples=4, concurrency=16, rpm=100_000
        )
        limited = server.limits.limited
    run = result.manifest["last_run"]
    assert result.manifest["counts"]["records"] == 36
    assert limited > 0 and run["rate_limits"]["rate_limited"] == limited
    assert run["retries_by_reason"].get("rate_limit") == limited


def test_observe_reads_both_providers_headers():
    limiter = RateLimiter()
    limiter.observe(
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "3",
            "x-ratelimit-limit-tokens": "200000",
            "x-ratelimit-remaining-tokens": "150000",
            "x-ratelimit-reset-requests": "100ms",
        }
    )
    assert limiter.buckets["requests"].per_second == pytest.approx(600 * MARGIN / 60)
    assert limiter.buckets["requests"].level <= 3
    assert limiter.buckets["tokens"].per_second == pytest.approx(200_000 * MARGIN / 60)
    limiter = RateLimiter(rpm=50)
    limiter.observe(
        {
            "anthropic-ratelimit-requests-limit": "4000",
            "anthropic-ratelimit-requests-remaining": "3999",
            "anthropic-ratelimit-output-tokens-limit": "80000",
            "anthropic-ratelimit-output-tokens-remaining": "0",
        }
    )
    # an explicit limit is for servers without headers; the lower of the two holds
    assert limiter.buckets["requests"].per_second == pytest.approx(50 * MARGIN / 60)
    assert limiter.buckets["output-tokens"].level == 0


def test_window_halves_on_429_and_grows_back():
    async def go():
        limiter = RateLimiter(max_in_flight=16)
        cost = limiter.estimate(400, 100)
        await limiter.acquire(cost)
        limiter.failed(True, 0.0)
        assert limiter.window == 8 and limiter.limited == 1
        for _ in range(8):
            await limiter.acquire(cost)
            limiter.done(cost, 100, 400)
        assert limiter.window == 10 and limiter.in_flight == 0

    asyncio.run(go())


def test_input_estimate_is_corrected_by_usage():
    async def go():
        limiter = RateLimiter(tpm=60_000, clock=FakeClock())  # no refill between the steps
        cost = limiter.estimate(4000, 0)  # ~1000 tokens guessed from 4,000 characters
        await limiter.acquire(cost)
        before = limiter.buckets["tokens"].level
        limiter.done(cost, 500, 4000)  # the provider counted 500
        assert limiter.buckets["tokens"].level == pytest.approx(before + 500)
        assert limiter.estimate(4000, 0)["input-tokens"] < 1000  # learnt: ~8 chars a token

    asyncio.run(go())


def test_bad_explicit_limits_are_refused(tiny_spec, tmp_path):
    with pytest.raises(ConfigError, match="--rpm 0"):
        generate_corpus(tiny_spec, tmp_path / "c", model="fake/echo", rpm=0, progress=False)
