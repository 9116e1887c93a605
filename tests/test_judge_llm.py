"""LLM judge through the scripted fake backend: parsing, re-asking, failures kept in denominators."""

from __future__ import annotations

import pytest

from credo.errors import ConfigError
from credo.generators.fake_backend import FakeBackend
from credo.judges import ACCEPTANCE, DEFLECTION, ERROR, REFUSAL, UNPARSEABLE, Pair
from credo.judges.llm import REASK, LLMJudge, load_rubric, parse_label, parse_reason


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("REASON: it declines.\nLABEL: REFUSAL", REFUSAL),
        ("label: deflection", DEFLECTION),
        (
            "**LABEL:** REFUSAL\nI mean ACCEPTANCE",
            REFUSAL,
        ),  # markdown bold label line wins over stray words
        ("LABEL: **ACCEPTANCE**", ACCEPTANCE),
        ("ACCEPTANCE", ACCEPTANCE),  # a lone label word
        ("Not a REFUSAL, more of an ACCEPTANCE", None),  # two label words, no label line: ambiguous
        ("First LABEL: REFUSAL, on reflection LABEL: DEFLECTION", DEFLECTION),  # the last line wins
        ("I think the assistant complied.", None),
        ("LABEL: MAYBE", None),
        ("Reply with LABEL: REFUSAL, LABEL: DEFLECTION or LABEL: ACCEPTANCE.", None),  # an echo
    ],
)
def test_parse_label(text: str, label: str | None) -> None:
    assert parse_label(text) == label


def test_parse_reason() -> None:
    assert parse_reason("REASON: gives the opposite\nLABEL: REFUSAL") == "gives the opposite"
    assert parse_reason("LABEL: REFUSAL") == ""


def test_rubric_is_versioned_and_renders_the_pair() -> None:
    rubric = load_rubric("refusal_v1")
    assert rubric.name == "refusal_v1" and rubric.hash.startswith("b2:")
    text = rubric.render("Give me {{ three }} reasons", "No.")
    assert "Give me {{ three }} reasons" in text and "<response>\nNo.\n</response>" in text
    with pytest.raises(ConfigError, match=r"shipped rubrics: .*refusal_v1"):
        load_rubric("refusal_v99")


def _judge(backend: FakeBackend, **options: object) -> LLMJudge:
    return LLMJudge(backend, use_cache=False, concurrency=1, **options)


def test_judge_labels_and_sends_the_rubric_at_temperature_zero() -> None:
    backend = FakeBackend("judge").enqueue("REASON: declines\nLABEL: REFUSAL")
    judgement = _judge(backend).label("Write a pamphlet.", "I won't.")
    assert (judgement.label, judgement.rationale, judgement.attempts) == (REFUSAL, "declines", 1)
    request = backend.history[0]
    assert request.params.temperature == 0.0
    assert "Write a pamphlet." in request.messages[0].content


def test_unparseable_answer_is_reasked_in_the_same_conversation() -> None:
    backend = FakeBackend("judge").enqueue("It complies, mostly.", "LABEL: ACCEPTANCE")
    judge = _judge(backend)
    judgement = judge.label("q", "a")
    assert (judgement.label, judgement.attempts) == (ACCEPTANCE, 2)
    second = backend.history[1].messages
    assert [m.role for m in second] == ["user", "assistant", "user"]
    assert second[1].content == "It complies, mostly." and second[2].content == REASK
    assert judge.accounting["reasks"] == 1 and judge.accounting["requests"] == 2


def test_bounded_reasks_then_unparseable_never_dropped() -> None:
    backend = FakeBackend("judge", respond=lambda messages: "I would rather not say.")
    judge = _judge(backend, max_reasks=2)
    pairs = [Pair("q1", "a1"), Pair("q2", "a2")]
    judgements = judge.label_many(pairs)
    assert [j.label for j in judgements] == [UNPARSEABLE, UNPARSEABLE]
    assert all(j.attempts == 3 for j in judgements)
    assert len(backend.history) == 6  # 1 ask + 2 re-asks per pair, then stop


def test_failing_backend_labels_error() -> None:
    backend = FakeBackend("judge").enqueue(ValueError("bad request"))
    judgement = _judge(backend).label("q", "a")
    assert judgement.label == ERROR and "bad request" in judgement.rationale


def test_transient_failures_are_retried_by_the_engine() -> None:
    from credo.generators.fake_backend import FakeTransientError

    backend = FakeBackend("judge").enqueue(FakeTransientError("502"), "LABEL: DEFLECTION")
    judge = _judge(backend)
    assert judge.label("q", "a").label == DEFLECTION
    assert judge.accounting["retries"] == 1


def test_cached_answers_are_reused() -> None:
    backend = FakeBackend("judge", respond=lambda messages: "LABEL: ACCEPTANCE")
    judge = LLMJudge(backend, concurrency=1)  # cache under the test's CREDO_HOME
    judge.label_many([Pair("q", "a")])
    judge.label_many([Pair("q", "a")])
    assert len(backend.history) == 1
    assert judge.accounting["cache_hits"] == 1
