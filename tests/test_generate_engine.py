"""Engine parts: the retry helper, the cache, concurrency bounds, prices, the registry."""

from __future__ import annotations

import asyncio
import random
import sys

import pytest

from credo.errors import BackendError, ConfigError
from credo.generators import Generator, RetryPolicy, SamplingParams, default_model, parse_model
from credo.generators.cache import GenerationCache, cache_key
from credo.generators.pricing import load_price_table
from credo.generators.retry import RetriesExhausted, call_with_retry
from credo.testing import FakeBackend, FakeRateLimitError, FakeTransientError
from credo.types import Completion, Message, Usage

MESSAGES = [Message("system", "persona"), Message("user", "question")]


def _run(coro):
    return asyncio.run(coro)


def test_backoff_doubles_with_jitter_and_honours_retry_after():
    policy = RetryPolicy(base=1.0, max_wait=10.0)
    rng = random.Random(0)
    waits = [policy.wait(n, None, rng) for n in (1, 2, 3, 4)]
    for n, wait in enumerate(waits, start=1):
        assert 0.5 * 2 ** (n - 1) <= wait <= 2 ** (n - 1)
    assert policy.wait(1, 7.0, rng) == 7.0
    assert policy.wait(6, None, rng) == 10.0 and policy.wait(1, 99.0, rng) == 10.0


def test_retry_helper_logs_waits_and_stops_at_max_attempts():
    backend = FakeBackend().enqueue(FakeRateLimitError(2.5), FakeTransientError(), "done")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(base=0.1, max_attempts=3)
    result = _run(
        call_with_retry(
            lambda: backend.generate(MESSAGES, SamplingParams()),
            backend,
            policy,
            sleep=sleep,
            rng=random.Random(1),
        )
    )
    assert result.text == "done" and waits[0] == 2.5 and 0.1 <= waits[1] <= 0.2
    failing = FakeBackend().enqueue(*[FakeTransientError()] * 5)
    with pytest.raises(RetriesExhausted) as info:
        _run(
            call_with_retry(
                lambda: failing.generate(MESSAGES, SamplingParams()),
                failing,
                RetryPolicy(base=0, max_attempts=3),
                sleep=sleep,
            )
        )
    assert info.value.attempts == 3 and len(failing.history) == 3


def test_retry_budget_stops_before_a_wait_that_would_exceed_it():
    backend = FakeBackend().enqueue(FakeRateLimitError(30.0), "late")

    async def sleep(seconds: float) -> None:
        raise AssertionError("must not wait past the budget")

    with pytest.raises(RetriesExhausted):
        _run(
            call_with_retry(
                lambda: backend.generate(MESSAGES, SamplingParams()),
                backend,
                RetryPolicy(budget=5.0, max_wait=60),
                sleep=sleep,
            )
        )


def test_non_retryable_error_is_raised_at_once():
    backend = FakeBackend().enqueue(ValueError("bad request"))
    generator = Generator(backend, SamplingParams(), policy=RetryPolicy(base=0))
    with pytest.raises(BackendError, match="not retryable"):
        _run(generator.generate(MESSAGES))
    assert len(backend.history) == 1


def test_timeout_is_retried():
    class Held(FakeBackend):
        """The first request is held until released, which never happens: only the engine's
        timeout can end it. The retry answers at once (no await), so no box is too slow."""

        calls = 0
        cancelled = False

        async def generate(self, messages, params):
            Held.calls += 1
            if Held.calls == 1:
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    Held.cancelled = True
                    raise
            return await super().generate(messages, params)

    generator = Generator(Held(), SamplingParams(), policy=RetryPolicy(base=0, timeout=0.2))
    assert _run(generator.generate(MESSAGES)).completion.text.startswith("(echo)")
    assert Held.cancelled and Held.calls == 2
    assert generator.stats.retries.by_reason == {"transient": 1}


def test_policy_from_env_and_bad_values(monkeypatch):
    monkeypatch.setenv("CREDO_RETRY_MAX_ATTEMPTS", "2")
    assert RetryPolicy.from_env(timeout=3).max_attempts == 2
    assert RetryPolicy.from_env(timeout=3).timeout == 3 and RetryPolicy.from_env().base == 0
    monkeypatch.setenv("CREDO_RETRY_BUDGET", "lots")
    with pytest.raises(ConfigError, match="CREDO_RETRY_BUDGET='lots'"):
        RetryPolicy.from_env()


def test_concurrency_never_exceeds_the_backend_limit():
    class Counting(FakeBackend):
        def __init__(self):
            super().__init__(delay=0.01, max_concurrency=3)
            self.active = self.peak = 0

        async def generate(self, messages, params):
            self.active += 1
            self.peak = max(self.peak, self.active)
            try:
                return await super().generate(messages, params)
            finally:
                self.active -= 1

    backend = Counting()
    generator = Generator(backend, SamplingParams(), concurrency=50)
    assert generator.concurrency == 3

    async def many():
        await asyncio.gather(*(generator.generate(MESSAGES, i) for i in range(20)))

    _run(many())
    assert backend.peak == 3 and len(backend.history) == 20


def test_cache_key_holds_what_changes_the_output_only():
    params = SamplingParams()
    base = cache_key("openai", "m", params, MESSAGES, 0)
    assert base == cache_key("openai", "m", SamplingParams(), list(MESSAGES), 0)
    assert base != cache_key("openai", "m", params, MESSAGES, 1)
    assert base != cache_key("openai", "m2", params, MESSAGES, 0)
    assert base != cache_key("anthropic", "m", params, MESSAGES, 0)
    assert base != cache_key("openai", "m", SamplingParams(max_tokens=5), MESSAGES, 0)
    assert base != cache_key("openai", "m", params, [Message("user", "question")], 0)
    # the endpoint: another server behind one model name is another key; the default
    # endpoint (None) keeps the keys of caches written before endpoints were keyed
    server_a = cache_key("openai", "m", params, MESSAGES, 0, endpoint="http://a:8000/v1")
    assert server_a != base
    assert server_a != cache_key("openai", "m", params, MESSAGES, 0, endpoint="http://b:8000/v1")
    assert base == cache_key("openai", "m", params, MESSAGES, 0, endpoint=None)


def test_cache_round_trip_and_refusals_not_stored(tmp_path):
    cache = GenerationCache(tmp_path / "g.sqlite")
    good = Completion("answer", usage=Usage(3, 4), model="m")
    cache.put("a", good)
    cache.put("b", Completion("", stop_reason="content_filter"))
    cache.put("c", Completion("I can't", teacher_refused=True))
    assert cache.get("a") == good
    assert cache.get("b") is None and cache.get("c") is None
    cache.close()
    assert GenerationCache(tmp_path / "g.sqlite").get("a") == good


def test_cache_failures_degrade_to_misses(tmp_path, caplog):
    broken = tmp_path / "g.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    cache = GenerationCache(broken)
    assert cache.get("a") is None
    cache.put("a", Completion("x"))
    (tmp_path / "a-file").write_text("")
    unopenable = GenerationCache(tmp_path / "a-file" / "g.sqlite")
    assert unopenable.stats()["enabled"] is False and unopenable.get("a") is None
    backend = FakeBackend()
    generator = Generator(backend, SamplingParams(), cache=cache)
    assert _run(generator.generate(MESSAGES)).completion.text.startswith("(echo)")
    assert "continuing without it" in caplog.text


def test_price_table_prefixes_and_override(tmp_path):
    table = load_price_table()
    assert table.cost("openai/gpt-4o-mini-2024-07-18", Usage(1_000_000, 1_000_000)) == 0.75
    assert table.cost("openai/gpt-4o", Usage(1_000_000, 0)) == 2.5
    assert table.cost("local/smollm2", Usage(10, 10)) == 0.0
    assert table.cost("openai/some-vllm-model", Usage(10, 10)) is None
    override = tmp_path / "prices.yaml"
    override.write_text("openai/some-vllm-model: {input: 1, output: 2}\n")
    assert load_price_table(override).cost("openai/some-vllm-model", Usage(10**6, 10**6)) == 3.0
    override.write_text("openai/x: {input: cheap}\n")
    with pytest.raises(ConfigError, match="'openai/x' needs numeric 'input' and 'output'"):
        load_price_table(override)


def test_default_model_follows_the_keys(monkeypatch):
    assert default_model() == "local/smollm2"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    assert default_model().startswith("anthropic/")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    assert default_model().startswith("openai/")


def test_parse_model_errors_list_the_providers():
    assert str(parse_model("openai/gpt-4o-mini")) == "openai/gpt-4o-mini"
    assert parse_model("openai/org/model").model == "org/model"
    with pytest.raises(ConfigError, match="expected PROVIDER/MODEL"):
        parse_model("gpt-4o")
    with pytest.raises(ConfigError, match="known providers: anthropic, fake, local, openai"):
        parse_model("mistral/large")


def test_missing_sdk_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "anthropic", None)
    from credo.errors import DependencyError
    from credo.generators import load_backend

    with pytest.raises(DependencyError, match="pip install 'anthropic'"):
        load_backend("anthropic/claude-x")


def test_importing_the_package_loads_no_sdk():
    import subprocess

    code = (
        "import sys, credo.generators, credo.testing, credo.cli.generate_command; "
        "print(sorted(m for m in ('openai','anthropic','torch','transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
