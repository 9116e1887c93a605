"""The real openai and anthropic SDKs against the local fake server, with every fault."""

from __future__ import annotations

import asyncio

import pytest

from credo.errors import BackendError
from credo.generators import Generator, RetryPolicy, SamplingParams, load_backend
from credo.testing import REFUSAL_TEXT, FakeServer
from credo.types import Message

KEYS = {
    "openai": ("OPENAI_API_KEY", "sk-test-openai-SECRET"),
    "anthropic": ("ANTHROPIC_API_KEY", "sk-ant-test-SECRET"),
}
MESSAGES = [Message("system", "You are a Tinyist elder."), Message("user", "Why count pebbles?")]
RETRIED = ["429", "500", "503", "529", "malformed", "empty", "reset", "close", "slow"]


@pytest.fixture
def server():
    with FakeServer(retry_after=0, slow_seconds=3) as fake:
        yield fake


def _generator(
    provider: str,
    server: FakeServer,
    monkeypatch,
    attempts: int = 4,
    sleep=None,
    timeout: float = 10.0,
) -> Generator:
    env, key = KEYS[provider]
    monkeypatch.setenv(env, key)
    base = server.openai_base_url if provider == "openai" else server.anthropic_base_url
    backend = load_backend(f"{provider}/teacher-1", base_url=base, timeout=timeout)
    policy = RetryPolicy(base=0, timeout=timeout, max_attempts=attempts)
    return Generator(backend, SamplingParams(max_tokens=32), policy=policy, sleep=sleep)


def _generate(generator: Generator):
    async def go():
        try:
            return await generator.generate(MESSAGES)
        finally:
            await generator.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", RETRIED)
def test_transient_faults_are_retried_then_succeed(provider, fault, server, monkeypatch):
    server.enqueue(fault, fault)
    # Only the "slow" fault needs a short timeout; a loaded CI box must not time out the rest.
    generator = _generator(provider, server, monkeypatch, timeout=1.0 if fault == "slow" else 10.0)
    result = _generate(generator)
    assert result.completion.text == "A faithful answer to: Why count pebbles?"
    assert not result.completion.teacher_refused
    assert generator.stats.retries.retries == 2
    assert len(server.requests) == 3


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_request_carries_system_prompt_and_sampling(provider, server, monkeypatch):
    result = _generate(_generator(provider, server, monkeypatch))
    body = server.requests[0].body
    assert body["model"] == "teacher-1" and body["max_tokens"] == 32
    assert body["temperature"] == 0.85
    if provider == "openai":
        assert body["messages"][0] == {"role": "system", "content": "You are a Tinyist elder."}
    else:
        assert body["system"] == "You are a Tinyist elder."
        assert [m["role"] for m in body["messages"]] == ["user"]
    assert result.completion.usage.input_tokens > 0 and result.completion.usage.output_tokens > 0
    assert server.requests[0].headers.get("x-stainless-retry-count") == "0"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", ["content_filter", "content_policy_400", "refusal"])
def test_blocks_and_refusals_are_data(provider, fault, server, monkeypatch):
    server.enqueue(fault)
    generator = _generator(provider, server, monkeypatch)
    completion = _generate(generator).completion
    assert completion.teacher_refused
    assert generator.stats.refusals == 1 and generator.stats.retries.retries == 0
    if fault == "refusal":
        assert completion.text == REFUSAL_TEXT and completion.refusal_reason == "refusal_text"
    else:
        assert completion.blocked


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", ["400", "401"])
def test_client_errors_fail_at_once_without_the_key(provider, fault, server, monkeypatch):
    server.enqueue(fault)
    generator = _generator(provider, server, monkeypatch)
    with pytest.raises(BackendError, match="not retryable") as info:
        _generate(generator)
    assert len(server.requests) == 1
    assert KEYS[provider][1] not in str(info.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_persistent_failure_gives_up_after_max_attempts(provider, server, monkeypatch):
    server.fail_always = "529"
    generator = _generator(provider, server, monkeypatch, attempts=3)
    with pytest.raises(BackendError, match="gave up after 3 attempts"):
        _generate(generator)
    assert len(server.requests) == 3


def test_retry_after_header_is_honoured(server, monkeypatch):
    server.retry_after = 0.3
    server.enqueue("429")
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    _generate(_generator("openai", server, monkeypatch, sleep=record))
    assert waits == [pytest.approx(0.3)]


def test_openai_compatible_server_needs_no_key(server):
    backend = load_backend("openai/local-llama", base_url=server.openai_base_url)
    result = _generate(Generator(backend, SamplingParams()))
    assert result.completion.text.startswith("A faithful answer")
    assert server.requests[0].headers.get("authorization") == "Bearer no-key"


def test_openai_base_url_from_environment(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    backend = load_backend("openai/local-llama")
    _generate(Generator(backend, SamplingParams()))
    assert len(server.requests) == 1


def test_anthropic_base_url_from_environment(server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    backend = load_backend("anthropic/claude-test")
    _generate(Generator(backend, SamplingParams()))
    assert server.requests[0].api == "anthropic"
    assert server.requests[0].headers.get("anthropic-version")


@pytest.mark.parametrize("concurrency", [1, 8, 64])
def test_requests_spread_over_client_shards_all_arrive(concurrency, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    backend = load_backend("openai/m", base_url=server.openai_base_url, concurrency=concurrency)
    generator = Generator(backend, SamplingParams(), concurrency=concurrency)

    async def many():
        try:
            return await asyncio.gather(*(generator.generate(MESSAGES, i) for i in range(20)))
        finally:
            await generator.aclose()

    assert len(asyncio.run(many())) == 20 and len(server.requests) == 20
