"""--transport lean: the SDK-free request path for self-hosted OpenAI-compatible servers."""

from __future__ import annotations

import asyncio

import pytest

from credo.errors import BackendError, ConfigError
from credo.generators import Generator, RetryPolicy, SamplingParams, load_backend
from credo.generators.corpus_run import generate_corpus
from credo.generators.ratelimit import MARGIN, RateLimiter
from credo.generators.run_options import GenerateOptions
from credo.testing import FakeServer
from credo.types import Message

MESSAGES = [Message("system", "You are a Tinyist elder."), Message("user", "Why count pebbles?")]
RETRIED = ["429", "500", "503", "529", "malformed", "empty", "reset", "close", "slow"]


def _generate(server, sleep=None, timeout=10.0, limiter=None):
    backend = load_backend(
        "openai/teacher", base_url=server.openai_base_url, transport="lean", timeout=timeout
    )
    generator = Generator(
        backend,
        SamplingParams(max_tokens=32),
        sleep=sleep,
        limiter=limiter,
        policy=RetryPolicy(base=0, timeout=timeout, max_attempts=4),
    )

    async def go():
        try:
            return await generator.generate(MESSAGES)
        finally:
            await generator.aclose()

    return generator, asyncio.run(go())


@pytest.mark.parametrize("fault", RETRIED)
def test_transient_faults_are_retried_then_succeed(fault):
    with FakeServer(retry_after=0) as server:
        server.enqueue(fault, fault)
        generator, result = _generate(server, timeout=1.0 if fault == "slow" else 10.0)
        sent = len(server.requests)
    assert result.completion.text == "A faithful answer to: Why count pebbles?"
    assert generator.stats.retries.retries == 2 and sent == 3


def test_same_request_body_and_auth_as_the_sdk(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-lean")
    with FakeServer() as server:
        _generate(server)
        request = server.requests[0]
    assert request.headers["authorization"] == "Bearer sk-lean"
    assert request.body == {
        "model": "teacher",
        "temperature": 0.85,
        "max_tokens": 32,
        "messages": [m.to_json() for m in MESSAGES],
    }


def test_blocks_refusals_and_bad_requests():
    with FakeServer() as server:
        server.enqueue("content_policy_400")
        _, blocked = _generate(server)
        server.enqueue("content_filter")
        _, filtered = _generate(server)
        server.enqueue("400")
        with pytest.raises(BackendError, match=r"not retryable .*HTTP 400"):
            _generate(server)
    assert blocked.completion.blocked and filtered.completion.stop_reason == "content_filter"


def test_retry_after_and_rate_limit_headers_are_read():
    waits: list[float] = []

    async def record(seconds):
        waits.append(seconds)

    with FakeServer(retry_after=2, rpm=6000) as server:
        server.enqueue("429")
        limiter = RateLimiter()
        _generate(server, sleep=record, limiter=limiter)
    assert waits == [2.0]
    assert limiter.buckets["requests"].target == pytest.approx(6000 * MARGIN / 60)


def test_a_corpus_through_the_lean_transport_matches_the_sdk(tiny_spec, tmp_path):
    with FakeServer() as server:
        runs = [
            generate_corpus(
                tiny_spec,
                tmp_path / t,
                options=GenerateOptions(
                    model="openai/m",
                    transport=t,
                    base_url=server.openai_base_url,
                    use_cache=False,
                    concurrency=4,
                ),
                progress=False,
            )
            for t in ("sdk", "lean")
        ]
    a, b = ([r.to_json() for r in sorted(_read(run.out), key=lambda r: r.id)] for run in runs)
    assert a == b and len(a) == 9


def _read(out):
    from credo.corpora.io import read_records

    return list(read_records(out))


def test_lean_needs_a_base_url_and_openai(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with pytest.raises(ConfigError, match="--base-url"):
        load_backend("openai/m", transport="lean")
    with pytest.raises(ConfigError, match="only openai"):
        load_backend("anthropic/m", transport="lean", base_url="http://127.0.0.1:1")


def test_lean_runs_without_the_sdk_and_the_sdk_transport_still_names_it(monkeypatch):
    """The lean path neither imports the SDK nor builds its clients (seconds of start-up)."""
    import sys

    from credo.errors import CredoError

    with FakeServer() as server:
        monkeypatch.setitem(sys.modules, "openai", None)  # importing it now fails
        generator, result = _generate(server)
        assert result.completion.text == "A faithful answer to: Why count pebbles?"
        assert generator.backend._clients == []
        with pytest.raises(CredoError, match="openai"):
            load_backend("openai/m", base_url=server.openai_base_url)
