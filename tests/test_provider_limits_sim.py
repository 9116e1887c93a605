"""The independent provider simulation: its accounting on a fake clock, then the real SDKs
paced against it end to end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credo.generators.corpus_run import generate_corpus
from credo.generators.run_options import GenerateOptions
from credo.testing.provider_limits_sim import (
    ProviderLimits,
    ProviderSim,
    count_tokens,
    go_duration,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_requests_refill_continuously_and_hold_one_second():
    clock = Clock()
    limits = ProviderLimits("openai", rpm=300, clock=clock)  # 5 a second, 5 at once
    assert [limits.admit(10, 10) for _ in range(5)] == [0.0] * 5
    assert limits.admit(10, 10) == pytest.approx(0.2)  # the next one refills in 0.2 s
    clock.now = 0.1
    assert limits.admit(10, 10) == pytest.approx(0.1)  # a refusal takes nothing
    clock.now = 0.2
    assert limits.admit(10, 10) == 0.0
    assert (limits.admitted, limits.refused) == (6, 2)


def test_openai_charges_prompt_plus_max_tokens_and_keeps_it():
    clock = Clock()
    limits = ProviderLimits("openai", rpm=6000, tpm=60_000, clock=clock)  # 1,000 tokens at once
    assert limits.admit(100, 400) == 0.0
    limits.settle(400, 10)  # OpenAI gives nothing back
    headers = limits.headers()
    assert headers["x-ratelimit-limit-tokens"] == "60000"
    assert headers["x-ratelimit-remaining-tokens"] == "500"
    assert headers["x-ratelimit-reset-tokens"] == "500ms"  # 500 tokens at 1,000 a second
    assert headers["x-ratelimit-remaining-requests"] == "99"
    assert limits.admit(100, 500) == pytest.approx(0.1)  # 600 needed, 500 there


def test_anthropic_adjusts_output_to_what_was_written():
    clock = Clock()
    limits = ProviderLimits("anthropic", rpm=6000, tpm=600_000, otpm=12_000, clock=clock)
    assert limits.admit(50, 150) == 0.0  # output: 200 a second, 150 reserved
    assert limits.admit(50, 150) > 0  # 50 left
    limits.settle(150, 30)  # 120 unused come back
    assert limits.admit(50, 150) == 0.0
    assert limits.limits["output-tokens"].remaining(clock.now) == pytest.approx(20)


def test_a_request_over_the_capacity_waits_for_a_full_bucket():
    clock = Clock()
    limits = ProviderLimits("openai", rpm=6000, tpm=6000, clock=clock)  # 100 tokens at once
    assert limits.admit(100, 200) == 0.0  # full: admitted, 200 owed
    assert limits.admit(1, 1) == pytest.approx(2.0 + 0.02)  # 3 s to full, then 2 tokens fit
    clock.now = 3.0
    assert limits.admit(100, 200) == 0.0


def test_anthropic_headers_are_rfc3339_rounded_and_name_the_tighter_token_limit():
    clock = Clock()
    limits = ProviderLimits("anthropic", rpm=60, tpm=600_000, otpm=120_000, clock=clock)
    limits.admit(1000, 1500)
    wall = datetime(2026, 12, 7, 18, 0, 0, 500_000, tzinfo=UTC).timestamp()
    headers = limits.headers(wall)
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert (
        headers["anthropic-ratelimit-requests-reset"] == "2026-12-07T18:00:02Z"
    )  # 1 s, rounded up
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == "9000"  # 10,000 - 1,000
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == "0"  # 500, to the thousand
    assert headers["anthropic-ratelimit-tokens-limit"] == "120000"  # output is the tighter
    assert not any(name.startswith("x-ratelimit") for name in headers)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0001, "1ms"),
        (0.25, "250ms"),
        (1, "1s"),
        (17.5, "17.5s"),
        (360, "6m0s"),
        (90.25, "1m30.25s"),
    ],
)
def test_resets_are_written_as_go_durations(seconds, text):
    assert go_duration(seconds) == text


def test_tokens_are_words_and_punctuation():
    assert count_tokens("Hello, world!") == 4


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_generation_through_the_real_sdk_meets_no_429_storm(
    provider, tiny_spec, tmp_path, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    # 600 RPM: a second's allowance (10) at once, then one every 0.1 s; 36 requests
    limits = ProviderLimits(provider, rpm=600, tpm=1_000_000)
    sim = ProviderSim(limits, latency=0.05, jitter=0.04)
    with sim:
        result = generate_corpus(
            tiny_spec,
            tmp_path / "c",
            options=GenerateOptions(
                model=f"{provider}/teacher",
                base_url=sim.base_url,
                samples=4,
                use_cache=False,
                max_tokens=32,
            ),
            progress=False,
        )
    assert result.manifest["counts"]["records"] == 36
    assert sim.tally["ok"] == 36
    # one admission time per answer (what the bench's steady share reads), the first answer
    # after the first admission
    assert len(sim.admitted_at) == 36 and sim.first_answer is not None
    assert min(sim.admitted_at) <= sim.first_answer
    # no storm: a pacer that ignored the limit would meet a 429 for most of 26 requests
    assert sim.tally["rate_limited"] <= 3
    assert result.manifest["last_run"]["rate_limits"]["limits_per_minute"]["requests"] == 600
