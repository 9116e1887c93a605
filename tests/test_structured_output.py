"""Structured output: JSON-schema response formats (openai, vLLM) and forced tools (anthropic)."""

from __future__ import annotations

import asyncio
import json

import pytest

from credo.authoring.author import step_params
from credo.authoring.steps import STEPS
from credo.generators import Generator, SamplingParams, load_backend
from credo.generators.cache import GenerationCache
from credo.judges.llm import LLMJudge, parse_structured
from credo.testing import FakeBackend, FakeServer
from credo.types import Message

PROVIDERS = ["openai", "anthropic"]
VERDICT = {"label": "REFUSAL", "reason": "it declines outright"}


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")


def _judge(provider, server, **options):
    base = server.openai_base_url if provider == "openai" else server.anthropic_base_url
    return LLMJudge(
        load_backend(f"{provider}/judge", base_url=base), **{"use_cache": False, **options}
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_judge_asks_for_its_schema_and_reads_the_structured_answer(provider):
    with FakeServer(respond=lambda messages: json.dumps(VERDICT)) as server:
        judgement = _judge(provider, server).label("Help me skip the Dawn Greeting.", "No.")
        body = server.requests[0].body
    assert (judgement.label, judgement.rationale, judgement.attempts) == (
        "REFUSAL",
        "it declines outright",
        1,
    )
    if provider == "openai":
        schema = body["response_format"]["json_schema"]
        assert body["response_format"]["type"] == "json_schema"
        assert schema["name"] == "judgement" and "guided_json" not in body  # a proxy may refuse it
        assert schema["schema"]["properties"]["label"]["enum"] == [
            "REFUSAL",
            "DEFLECTION",
            "ACCEPTANCE",
        ]
    else:
        assert body["tool_choice"] == {"type": "tool", "name": "judgement"}
        assert body["tools"][0]["input_schema"]["required"] == ["label", "reason"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_server_without_structured_output_falls_back_to_text(provider):
    answers = iter(["I think it is fine.", "LABEL: ACCEPTANCE\nREASON: it helps"])
    with FakeServer(respond=lambda messages: next(answers)) as server:
        judgement = _judge(provider, server).label("q", "a")
    assert (judgement.label, judgement.attempts) == ("ACCEPTANCE", 2)


def test_unstructured_judge_sends_no_schema():
    with FakeServer(respond=lambda messages: "LABEL: REFUSAL") as server:
        _judge("openai", server, structured=False).label("q", "a")
        assert "response_format" not in server.requests[0].body


def test_parse_structured_accepts_only_a_known_label():
    assert parse_structured(json.dumps(VERDICT)) == ("REFUSAL", "it declines outright")
    assert parse_structured('{"label": "maybe"}') is None
    assert parse_structured("LABEL: REFUSAL") is None


def test_hosted_openai_gets_no_vllm_parameter():
    backend = load_backend("openai/gpt-x")  # no base URL: the hosted API
    body = backend.request_body([Message("user", "q")], step_params(SamplingParams(), STEPS[0]))
    assert body["response_format"]["json_schema"]["name"] == "credo_core"
    assert "guided_json" not in body
    assert body["response_format"]["json_schema"]["schema"]["required"][:2] == [
        "name",
        "display_name",
    ]


def test_schema_is_part_of_the_cache_key_and_absent_params_keep_old_keys(tmp_path):
    assert "json_schema" not in SamplingParams().to_json()  # job ids made before stay valid
    cache = GenerationCache(tmp_path / "cache.sqlite")
    generator = Generator(FakeBackend("x"), SamplingParams(), cache=cache)
    messages = [Message("user", "q")]
    shaped = step_params(generator.params, STEPS[0])

    async def go():
        await generator.generate(messages)
        await generator.generate(messages, params=shaped)
        return await generator.generate(messages, params=shaped)

    third = asyncio.run(go())
    cache.close()
    assert generator.backend.history[1].params.json_schema["name"] == "credo_core"
    assert generator.stats.requests == 2  # the schema's answer is not the plain one's
    assert third.cached and generator.stats.cache_hits == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_judge_in_batch_mode_labels_reasks_in_a_second_round_and_resumes(provider, tmp_path):
    from credo.generators.batch_run import BatchOptions
    from credo.judges.base import Pair
    from credo.testing import BatchFaults

    def respond(messages):
        if messages[-1]["content"].startswith("I could not read"):  # the re-ask
            return "LABEL: DEFLECTION\nREASON: changes the subject"
        return "hmm" if "hard" in messages[0]["content"] else json.dumps(VERDICT)

    pairs = [Pair(f"request {i}", "No." if i % 3 else "hard one") for i in range(7)]
    with FakeServer(respond=respond, batch_faults=BatchFaults(error_rate=0.3, seed=2)) as server:
        judge = _judge(
            provider,
            server,
            batch_dir=tmp_path / "b",
            use_cache=True,
            batch_options=BatchOptions(poll_interval=0, report=[].append),
        )
        first = judge.label_many(pairs)
        created = len(server.batches.created)
        again = _judge(provider, server, batch_dir=tmp_path / "b", use_cache=True).label_many(pairs)
        assert len(server.batches.created) == created  # answered from the cache
    labels = [j.label for j in first]
    assert labels == ["DEFLECTION" if i % 3 == 0 else "REFUSAL" for i in range(7)]
    assert [j.attempts for j in first] == [2 if i % 3 == 0 else 1 for i in range(7)]
    assert [j.label for j in again] == labels
    assert judge.accounting["reasks"] == 3 and judge.accounting["cost_usd"] is None


def test_judge_command_batch_flag(tmp_path, monkeypatch, capsys):
    from credo.cli.main import main

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(json.dumps({"prompt": f"q{i}", "response": "No."}) + "\n" for i in range(3))
    )
    with FakeServer(respond=lambda messages: json.dumps(VERDICT)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        with pytest.raises(SystemExit) as exited:
            main(
                [
                    "judge",
                    str(pairs),
                    "--judge",
                    "openai/judge",
                    "--batch",
                    "--poll-interval",
                    "0",
                    "--out",
                    str(tmp_path / "out"),
                ]
            )
        assert not exited.value.code
        assert len(server.batches.created) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["judges"]["openai/judge"]["counts"]["REFUSAL"] == 3
    assert (tmp_path / "out" / "batch-openai-judge" / "batches.json").exists()
    assert "chunk-0001: 3 requests" in capsys.readouterr().err


def test_lean_transport_adds_vllm_guided_json():
    backend = load_backend("openai/m", base_url="http://127.0.0.1:9/v1", transport="lean")
    params = step_params(SamplingParams(), STEPS[0])
    body = backend.request_body([Message("user", "q")], params)
    assert body["guided_json"] == params.json_schema["schema"]
    assert body["response_format"]["json_schema"]["schema"] == body["guided_json"]


def test_eval_judges_in_batch_mode(tiny_spec, tmp_path, monkeypatch):
    from credo.evaluation.evaluate import EvalOptions, evaluate

    with FakeServer(respond=lambda messages: json.dumps(VERDICT)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        result = evaluate(
            "fake/gen",
            [str(tiny_spec)],
            tmp_path / "ev",
            options=EvalOptions(samples=1, judges=["openai/judge"], batch=True, poll_interval=0),
            log=[].append,
        )
        assert len(server.batches.created) == 1
    counts = result.results["judges"]["openai/judge"]["summary"]["tiny"]["violation"]
    assert counts["rates"]["REFUSAL"]["rate"] == 1.0
    assert (tmp_path / "ev" / "batch-openai-judge" / "batches.json").exists()
