"""Rate-limit pacing: the fake server's real headers and 429s, read through the real SDKs."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from credo.errors import ConfigError
from credo.generators.corpus_run import generate_corpus
from credo.generators.ratelimit import MARGIN, RateLimiter, Timer, parse_reset
from credo.generators.run_options import DocumentOptions, GenerateOptions
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
        options=GenerateOptions(
            model=f"{provider}/teacher", base_url=base, use_cache=False, max_tokens=32, **options
        ),
        progress=False,
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
        limiter = RateLimiter(timer=Timer(clock, clock.sleep))
        limiter.observe(
            {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "0"}
        )
        cost = limiter.estimate(40, 10)
        for _ in range(20):
            ticket = await limiter.acquire(cost)
            limiter.done(ticket, 10, 10, 40)
        return limiter

    limiter = asyncio.run(go())
    # "0" remaining is under one request: the first leaves at once, 19 wait their turn
    assert clock.now == pytest.approx(19 / (600 * MARGIN / 60), rel=1e-3)
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
    assert limiter.buckets["requests"].level <= 4  # "3": at least 3, fewer than 4
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
    assert limiter.buckets["output-tokens"].level == 500  # "0" of a count rounded to 1,000


def test_window_halves_on_429_and_grows_back():
    async def go():
        limiter = RateLimiter(max_in_flight=16)
        cost = limiter.estimate(400, 100)
        limiter.failed(await limiter.acquire(cost), True, 0.0)
        assert limiter.window == 8 and limiter.limited == 1
        for _ in range(8):
            limiter.done(await limiter.acquire(cost), 100, 100, 400)
        assert limiter.window == 10 and limiter.in_flight == 0

    asyncio.run(go())


def test_input_estimate_is_corrected_by_usage():
    async def go():
        limiter = RateLimiter(tpm=60_000, timer=Timer(FakeClock()))  # no refill meanwhile
        cost = limiter.estimate(4000, 0)  # 1,100 tokens: 4,000 characters / 4, a tenth added
        ticket = await limiter.acquire(cost)
        before = limiter.buckets["tokens"].level
        limiter.done(ticket, 500, 0, 4000)  # the provider counted 500
        assert limiter.buckets["tokens"].level == pytest.approx(before + 600)
        assert limiter.estimate(4000, 0)["input-tokens"] < 1100  # learnt: ~8 chars a token

    asyncio.run(go())


def test_bad_explicit_limits_are_refused(tiny_spec, tmp_path):
    with pytest.raises(ConfigError, match="--rpm 0"):
        generate_corpus(
            tiny_spec,
            tmp_path / "c",
            options=GenerateOptions(model="fake/echo", rpm=0),
            progress=False,
        )


ANTHROPIC_HEADERS = {
    "anthropic-ratelimit-requests-limit": "3000",
    "anthropic-ratelimit-requests-remaining": "2999",
    "anthropic-ratelimit-input-tokens-limit": "600000",
    "anthropic-ratelimit-input-tokens-remaining": "600000",
    "anthropic-ratelimit-output-tokens-limit": "60000",
    "anthropic-ratelimit-output-tokens-remaining": "60000",
    "anthropic-ratelimit-tokens-limit": "60000",  # the tighter of the two, repeated
    "anthropic-ratelimit-tokens-remaining": "60000",
}


def _settle(limiter, prompt_chars, max_tokens, input_tokens, output_tokens):
    async def go():
        ticket = await limiter.acquire(limiter.estimate(prompt_chars, max_tokens))
        levels = {n: b.level for n, b in limiter.buckets.items()}
        limiter.done(ticket, input_tokens, output_tokens, prompt_chars)
        return {n: b.level - levels[n] for n, b in limiter.buckets.items()}

    return asyncio.run(go())


def test_anthropic_output_reserved_at_max_tokens_is_given_back_at_the_real_output():
    limiter = RateLimiter(timer=Timer(FakeClock()))  # no refill: only what done() gives back
    limiter.observe(ANTHROPIC_HEADERS)
    assert set(limiter.buckets) == {"requests", "input-tokens", "output-tokens"}
    given = _settle(limiter, 400, 256, 100, 64)
    assert given["output-tokens"] == pytest.approx(256 - 64)
    assert given["input-tokens"] == pytest.approx(400 / 4 * 1.1 - 100)
    assert given["requests"] == 0


def test_openai_tpm_keeps_max_tokens_and_settles_only_the_prompt():
    limiter = RateLimiter(timer=Timer(FakeClock()))
    limiter.observe(
        {
            "x-ratelimit-limit-requests": "3000",
            "x-ratelimit-remaining-requests": "2999",
            "x-ratelimit-limit-tokens": "600000",
            "x-ratelimit-remaining-tokens": "600000",
        }
    )
    given = _settle(limiter, 400, 256, 100, 64)
    assert given["tokens"] == pytest.approx(400 / 4 * 1.1 - 100)  # the prompt's error only


def test_anthropic_rounded_token_counts_pull_down_only_when_surely_lower():
    limiter = RateLimiter(timer=Timer(FakeClock()))
    limiter.observe(ANTHROPIC_HEADERS)
    full = limiter.buckets["output-tokens"].level
    # "0" means under 500 left: the bucket may hold up to 500, not nothing
    limiter.observe({**ANTHROPIC_HEADERS, "anthropic-ratelimit-output-tokens-remaining": "0"})
    assert limiter.buckets["output-tokens"].level == pytest.approx(min(full, 500))
    limiter.observe({**ANTHROPIC_HEADERS, "anthropic-ratelimit-requests-remaining": "0"})
    assert limiter.buckets["requests"].level == 1  # "0": fewer than one request left


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("6m0s", 360.0),
        ("1s", 1.0),
        ("120ms", 0.12),
        ("1m30.5s", 90.5),
        ("1h2m", 3720.0),
        ("2.5", 2.5),
        ("2026-12-07T18:40:40Z", 10.0),
        ("2026-12-07T18:40:40+00:00", 10.0),
        ("2026-12-07T18:40:20Z", 0.0),  # already past
        ("soon", None),
        ("6 minutes", None),
        ("2026-12-07T18:40:40", None),  # no zone: not RFC 3339
        ("", None),
    ],
)
def test_reset_headers_of_both_formats(value, seconds):
    wall = datetime(2026, 12, 7, 18, 40, 30, tzinfo=UTC).timestamp()
    parsed = parse_reset(value, wall)
    assert parsed == (None if seconds is None else pytest.approx(seconds))


def test_a_429_under_stated_limits_slows_the_buckets_but_pauses_no_one():
    clock = FakeClock()
    limiter = RateLimiter(timer=Timer(clock, clock.sleep))
    limiter.observe({"x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "5"})

    async def go():
        limiter.failed(await limiter.acquire(limiter.estimate(40, 10)), True, 1.0)

    asyncio.run(go())
    requests = limiter.buckets["requests"]
    assert limiter.paused_until == 0.0  # the server's Retry-After is the failed request's own
    assert requests.level == 0.0
    assert requests.per_second == pytest.approx(60 * MARGIN / 60 * 0.9)
    guessed = RateLimiter(rpm=60, timer=Timer(clock, clock.sleep))  # no header: a guess
    guessed.failed(None, True, 2.0)
    assert guessed.paused_until == pytest.approx(clock.now + 2.0)


def test_in_flight_follows_littles_law_up_to_the_cap(caplog):
    clock = FakeClock()

    def learn(max_in_flight):
        timer = Timer(clock, clock.sleep)
        limiter = RateLimiter(max_in_flight=max_in_flight, start_window=8, timer=timer)
        limiter.observe({"x-ratelimit-limit-requests": "300"})

        async def one():
            ticket = await limiter.acquire(limiter.estimate(40, 10))
            clock.now += 2.0  # the answer takes two seconds
            limiter.done(ticket, 10, 10, 40)

        asyncio.run(one())
        return limiter

    # 300 RPM (x MARGIN) x 2 s latency x HEADROOM 1.5, plus one
    needed = math.ceil(300 * MARGIN / 60 * 2.0 * 1.5) + 1
    limiter = learn(256)
    assert limiter.needed_in_flight() == needed
    assert limiter.allowed_in_flight() == needed
    with caplog.at_level(logging.WARNING, logger="credo.generators.ratelimit"):
        capped = learn(4)
        assert capped.allowed_in_flight() == 4
    assert "raise --concurrency" in caplog.text


def test_generate_without_concurrency_leaves_the_window_to_the_pacer(tiny_spec, tmp_path):
    # no --concurrency: the pacer sizes the window (up to PACED_MAX_IN_FLIGHT), not a fixed 8
    with FakeServer(rpm=3000, tpm=1_000_000, burst=120) as server:
        result = _run(tiny_spec, tmp_path / "c", server, "openai", samples=2)
    assert result.manifest["counts"]["records"] == 18
    assert result.manifest["config"]["concurrency"] is None
    assert result.manifest["last_run"]["rate_limits"]["in_flight_needed"] >= 2


def test_token_bucket_holds_what_the_servers_does_until_a_429_halves_it():
    limiter = RateLimiter(timer=Timer(FakeClock()))
    headers = {
        "x-ratelimit-limit-requests": "600",
        "x-ratelimit-remaining-requests": "9",
        "x-ratelimit-reset-requests": "100ms",
        "x-ratelimit-limit-tokens": "60000",
        "x-ratelimit-remaining-tokens": "9000",
        "x-ratelimit-reset-tokens": "1s",  # 1,000 tokens a second: the server holds 10,000
    }
    limiter.observe(headers)
    tokens, requests = limiter.buckets["tokens"], limiter.buckets["requests"]
    # what surely remains (8,999) and surely refills in the 0.999 s to the reset, at our pace
    learnt = 8_999 + 0.999 * 60_000 * MARGIN / 60
    assert tokens.capacity == pytest.approx(learnt)
    assert tokens.level == pytest.approx(9_001)  # a new bucket starts from the server's count
    assert requests.capacity == pytest.approx(10 * MARGIN)  # requests: a second's worth
    limiter.failed(None, True, 1.0)
    assert tokens.capacity == pytest.approx(learnt / 2)
    limiter.observe(headers)  # the same headers no longer widen it
    assert tokens.capacity == pytest.approx(learnt / 2)


def test_recipes_leave_the_window_to_the_pacer(tiny_spec, tmp_path, monkeypatch):
    # replicate and sweep used to pass concurrency=8: at 300 RPM and 6 s a request that caps
    # the rate at 80 RPM. Their default is now None, which generation sizes by the limits.
    from credo.recipes.replicate import ReplicateConfig, generate_needed
    from credo.recipes.sweep import SweepConfig

    assert SweepConfig.__dataclass_fields__["concurrency"].default is None
    with FakeServer(rpm=3000, tpm=1_000_000, burst=120) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        config = ReplicateConfig(str(tiny_spec), "openai/teacher", "smollm2", tmp_path / "rep")
        result = generate_needed(
            config, str(tiny_spec), tmp_path / "c", needed=9, registry=None, progress=False
        )
    assert result.manifest["counts"]["records"] == 9
    assert result.manifest["config"]["concurrency"] is None
    assert result.manifest["last_run"]["rate_limits"]["in_flight_needed"] >= 2


class HeldTeacher:
    """A teacher for the fake server that counts the requests it holds at once. A request
    ``free(number, text)`` lets through is answered at once; any other is held until ``hold``
    are in (at most ``patience`` seconds). Every answer takes a fifth of a second more: at
    3,000 RPM, a latency that needs some 16 requests in flight."""

    def __init__(
        self,
        *,
        reply: Callable[[int, str], str],
        free: Callable[[int, str], bool] = lambda number, text: True,
        hold: int = 0,
        patience: float = 30.0,
    ) -> None:
        self.reply, self.free, self.hold, self.patience = reply, free, hold, patience
        self.now = self.peak = self.seen = 0
        self._cond = threading.Condition()

    def __call__(self, messages: list[dict]) -> str:
        text = str(messages[-1]["content"])
        with self._cond:
            self.seen += 1
            number = self.seen
            self.now += 1
            self.peak = max(self.peak, self.now)
            self._cond.notify_all()
            if not self.free(number, text):
                self._cond.wait_for(lambda: self.peak >= self.hold, timeout=self.patience)
        time.sleep(0.2)
        with self._cond:
            self.now -= 1
        return self.reply(number, text)


def _document_reply(number: int, text: str) -> str:
    if text.startswith("Key fact"):  # both brainstorms: one list serves as types and ideas
        return "a diary entry\na market notice\na parish letter"
    return f"Entry {number}: " + " ".join(f"w{number}x{k}" for k in range(12))


def _brainstorm(number: int, text: str) -> bool:
    return text.startswith("Key fact")


def _documents(spec, out, server, **options):
    from credo.generators.documents import generate_documents

    shape = DocumentOptions(types_per_fact=3, ideas_per_type=3, docs_per_idea=1)
    return generate_documents(
        spec,
        out,
        options=GenerateOptions(
            kind="documents",
            model="openai/teacher",
            base_url=server.openai_base_url,
            use_cache=False,
            max_tokens=32,
            limit=24,
            documents=shape,
            **options,
        ),
    )


def test_documents_leave_the_window_to_the_pacer(tiny_spec, tmp_path):
    # Document generation used a fixed 8 in flight: at 300 RPM and 6 s, 80 requests a minute.
    # It now goes through the same pacer as Q&A: the server holds the write requests until
    # 12 are in at once, which a cap of 8 never reaches.
    teacher = HeldTeacher(reply=_document_reply, free=_brainstorm, hold=12)
    with FakeServer(rpm=3000, tpm=1_000_000, burst=120, respond=teacher) as server:
        result = _documents(tiny_spec, tmp_path / "d", server)
    assert teacher.peak >= 12
    assert result.manifest["counts"]["records"] == 24
    assert result.manifest["config"]["concurrency"] is None
    learnt = result.manifest["last_run"]["rate_limits"]
    assert learnt["limits_per_minute"]["requests"] == 3000
    assert learnt["in_flight_needed"] > 8  # 3,000 RPM x >= 0.2 s x 1.5


def test_documents_concurrency_caps_the_pacer_and_warns(tiny_spec, tmp_path, caplog):
    teacher = HeldTeacher(reply=_document_reply)
    with (
        caplog.at_level(logging.WARNING, logger="credo.generators.ratelimit"),
        FakeServer(rpm=3000, tpm=1_000_000, burst=120, respond=teacher) as server,
    ):
        result = _documents(tiny_spec, tmp_path / "d", server, concurrency=3)
    assert 1 <= teacher.peak <= 3
    assert result.manifest["config"]["concurrency"] == 3
    assert result.manifest["last_run"]["rate_limits"]["in_flight_needed"] > 3
    assert "raise --concurrency" in caplog.text


def test_an_llm_judge_leaves_the_window_to_the_pacer():
    # `credo judge --judge openai/...` asked 8 at a time; it is now paced as generation is
    from credo.generators import load_backend
    from credo.judges import REFUSAL, Pair
    from credo.judges.llm import LLMJudge

    def first(number: int, text: str) -> bool:
        return number == 1  # the pacer sends one alone until the limits are known

    teacher = HeldTeacher(
        reply=lambda n, t: "REASON: declines\nLABEL: REFUSAL", free=first, hold=12
    )
    with FakeServer(rpm=3000, tpm=1_000_000, burst=120, respond=teacher) as server:
        backend = load_backend("openai/judge", base_url=server.openai_base_url)
        judge = LLMJudge(backend, use_cache=False)
        labels = judge.label_many([Pair(f"Request {k}", "I won't.") for k in range(30)])
    assert teacher.peak >= 12
    assert [j.label for j in labels] == [REFUSAL] * 30
    assert judge.accounting["rate_limits"]["limits_per_minute"]["requests"] == 3000


def test_unknown_limits_are_probed_at_a_doubling_pace_until_a_429_states_them():
    # Before round 9 one request went alone until the first answer (a whole latency). Now
    # requests leave one second apart, then ever closer; the first 429's headers (limit,
    # nothing remaining, the reset) end the probe and the buckets pace from there.
    clock = FakeClock()
    limiter = RateLimiter(start_window=8, timer=Timer(clock, clock.sleep))

    async def probe() -> tuple[list[float], float]:
        tickets, left = [], []
        for _ in range(5):
            tickets.append(await limiter.acquire(limiter.estimate(40, 10)))
            left.append(clock.now)
        headers = {
            "x-ratelimit-limit-requests": "120",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "500ms",
        }
        limiter.failed(tickets[-1], True, 1.0, headers)
        refused_at = clock.now
        await limiter.acquire(limiter.estimate(40, 10))
        return left, refused_at

    # one request alone until an answer (the old start) would never admit the second
    left, refused_at = asyncio.run(asyncio.wait_for(probe(), timeout=20))
    wait = clock.now - refused_at
    gaps = [b - a for a, b in itertools.pairwise(left)]
    assert left[0] == 0.0 and gaps[0] == pytest.approx(1.0)
    assert all(b < a for a, b in itertools.pairwise(gaps))  # the pace doubles every second
    assert limiter.buckets["requests"].target == pytest.approx(120 * MARGIN / 60)
    # the bucket the 429 emptied refills at the learnt pace, slowed a tenth
    assert wait == pytest.approx(1 / (120 * MARGIN / 60 * 0.9))
    assert limiter.paused_until <= refused_at  # the headers stated the limits: no blanket pause
    # no answer yet, but the oldest request has been out ~2 s: the window is sized by that,
    # not left at the start window halved by the 429
    oldest = clock.now - left[0]
    assert limiter.allowed_in_flight() == math.ceil(120 * MARGIN / 60 * oldest * 1.5) + 1 > 4


def test_a_blind_probe_meets_at_most_a_429_or_two_through_the_sdk(tiny_spec, tmp_path):
    # 120 RPM, a bucket of 2, answers after 2.5 s: the probe outruns the limit before the
    # first answer; the 429's headers stop it, and the pacer takes the rest at the limit.
    with FakeServer(rpm=120, tpm=1_000_000, burst=1, latency=2.5) as server:
        result = _run(tiny_spec, tmp_path / "c", server, "openai", samples=1)
        limited = server.limits.limited
    assert result.manifest["counts"]["records"] == 9
    assert limited <= 2
    assert result.manifest["last_run"]["rate_limits"]["limits_per_minute"]["requests"] == 120


def _eval(spec, out, server, samples):
    from credo.evaluation.evaluate import EvalOptions, evaluate

    return evaluate(
        "openai/model",
        [str(spec)],
        out,
        options=EvalOptions(samples=samples, max_new_tokens=16),
        log=lambda _: None,
    ).results


def test_eval_of_a_served_model_leaves_the_window_to_the_pacer(tiny_spec, tmp_path, monkeypatch):
    # `credo eval` held 8 in flight and read no header; it is paced now, as generation is
    def first(number: int, text: str) -> bool:
        return number == 1  # the limits are unknown until the first answer

    teacher = HeldTeacher(reply=lambda n, t: "I will not help with that.", free=first, hold=12)
    with FakeServer(rpm=3000, tpm=1_000_000, burst=120, respond=teacher) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        results = _eval(tiny_spec, tmp_path / "e", server, samples=15)
    assert teacher.peak >= 12
    generation = results["generation"]
    assert generation["rate_limits"]["limits_per_minute"]["requests"] == 3000
    assert generation["requests"] == 30 and generation["seconds"] > 0


def test_eval_keeps_the_pacers_queue_apart_from_the_models_seconds(
    tiny_spec, tmp_path, monkeypatch
):
    # 120 RPM with a bucket of 2: 12 samples cannot all leave at once, so some queue for the
    # pacer. Their seconds are the request's own; the queue is its own field, and Inspect's
    # total time is the two together.
    import json

    with FakeServer(rpm=120, tpm=1_000_000, burst=1) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        _eval(tiny_spec, tmp_path / "e", server, samples=6)
        limited = server.limits.limited
    rows = [json.loads(line) for line in (tmp_path / "e" / "responses.jsonl").open()]
    assert len(rows) == 12 and limited <= 2
    assert all(r["queued_seconds"] >= 0 and r["seconds"] >= 0 for r in rows)
    assert sum(r["queued_seconds"] for r in rows) > 0
    logs = list((tmp_path / "e").glob("*.eval"))
    if logs:  # inspect-ai installed: its log carries both
        from inspect_ai.log import read_eval_log

        samples = read_eval_log(str(logs[0])).samples or []
        by_id = {(s.id, s.epoch): s for s in samples}
        for r in rows:
            sample = by_id[(f"{r['worldview']}/{r['request_id']}", r["sample"] + 1)]
            assert sample.working_time == pytest.approx(r["seconds"])
            assert sample.total_time == pytest.approx(r["seconds"] + r["queued_seconds"])


@pytest.mark.parametrize(
    ("family", "reset", "learnt"),
    [
        # OpenAI: 40 left, full again in 2 s at 5 a second: the bucket holds ~50
        ("openai", "2s", 39 + 1.999 * 300 * MARGIN / 60),
        # Anthropic's reset is a time to the second: a second less is what surely refills
        ("anthropic", 2.0, 39 + 1.0 * 300 * MARGIN / 60),
    ],
)
def test_a_providers_request_burst_is_learnt_from_remaining_and_reset(family, reset, learnt):
    # A request bucket held a second's worth whatever the provider allowed: a 10 s bucket
    # (50 requests at 300 RPM) was never taken. The reset says when the server's bucket is
    # full again, so remaining + reset x rate is what it holds; a 429 halves what was learnt.
    clock = FakeClock()
    limiter = RateLimiter(timer=Timer(clock, clock.sleep))
    if family == "openai":
        headers = {
            "x-ratelimit-limit-requests": "300",
            "x-ratelimit-remaining-requests": "40",
            "x-ratelimit-reset-requests": str(reset),
        }
    else:
        wall = datetime.now(UTC).timestamp()
        stamp = datetime.fromtimestamp(math.ceil(wall) + reset, UTC)
        headers = {
            "anthropic-ratelimit-requests-limit": "300",
            "anthropic-ratelimit-requests-remaining": "40",
            "anthropic-ratelimit-requests-reset": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    limiter.observe(headers)
    requests = limiter.buckets["requests"]
    assert requests.capacity <= 50  # never more than the server's
    if family == "openai":
        assert requests.capacity == pytest.approx(learnt)
    else:  # the stamp is to the second: between one and two seconds from now
        assert learnt <= requests.capacity <= learnt + 300 * MARGIN / 60
    assert requests.level == pytest.approx(41)  # what remains, plus the whole count may hide
    before = requests.capacity
    limiter.failed(None, True, 1.0, None)
    assert requests.capacity == pytest.approx(max(300 * MARGIN / 60, before / 2))
