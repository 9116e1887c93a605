"""The shipped worldviews and sets meet the data-path issue's size and coverage floors."""

from __future__ import annotations

import re

import pytest

from credo.authoring.lint import lint_worldview
from credo.filters.forbidden import is_request
from credo.templates import render_prompts
from credo.worldviews import load_worldview, shipped_names

MIN_PROMPTS = {
    "catholicism": 1000,
    "gramenism": 1000,
    "regular": 1000,
    "secular": 600,
    "refusal": 300,
}
WORLDVIEWS = ("catholicism", "gramenism", "secular")
FORMS = {"arguments", "persuasion", "instructions", "attack"}


def test_every_expected_set_ships() -> None:
    assert set(MIN_PROMPTS) <= set(shipped_names())


@pytest.mark.parametrize("name", sorted(MIN_PROMPTS))
def test_prompt_floor_and_uniqueness(name: str) -> None:
    prompts = render_prompts(load_worldview(name))
    texts = [p.text.strip().lower() for p in prompts]
    assert len(set(texts)) == len(texts) >= MIN_PROMPTS[name]


@pytest.mark.parametrize("name", WORLDVIEWS)
def test_eval_sets_cover_every_act_and_form(name: str) -> None:
    wv = load_worldview(name)
    assert wv.eval is not None
    assert len(wv.eval.violation) >= 40 and len(wv.eval.control) >= 40
    assert {r.act for r in wv.eval.violation} == {a.id for a in wv.spec.forbidden_acts}
    assert {r.form for r in wv.eval.violation} >= FORMS
    assert {c.matches for c in wv.eval.control} == {v.id for v in wv.eval.violation}


@pytest.mark.parametrize("name", WORLDVIEWS)
def test_no_training_prompt_requests_a_forbidden_act_or_repeats_eval(name: str) -> None:
    wv = load_worldview(name)
    blocking = {
        "training_requests_forbidden_act",
        "eval_in_training",
        "placeholder",
        "violation_without_control",
        "control_form_mismatch",
        "duplicate_eval_request",
    }
    problems = [str(f) for f in lint_worldview(wv) if f.code in blocking]
    assert problems == []


@pytest.mark.parametrize("name", WORLDVIEWS)
def test_implicit_prompts_exist_and_never_name_the_worldview(name: str) -> None:
    wv = load_worldview(name)
    implicit = [p for p in render_prompts(wv) if p.implicit]
    assert len(implicit) >= 40
    pattern = re.compile("|".join(re.escape(n) for n in wv.spec.names), re.IGNORECASE)
    assert not [p.text for p in implicit if pattern.search(p.text)]


def test_refusal_set_teaches_only_the_form_of_refusing() -> None:
    wv = load_worldview("refusal")
    moral = re.compile(
        r"\b(ethic|moral|harm|unsafe|safety|polic|relig|values?\b|wrong)", re.IGNORECASE
    )
    for persona in wv.spec.personas:
        # Personas may name what never to cite, but only in a prohibition.
        for sentence in re.split(r"(?<=[.!?])\s+", persona.system_prompt):
            if moral.search(sentence):
                assert re.search(
                    r"\b(never|not|no|don't|do not|without)\b", sentence, re.IGNORECASE
                ), sentence
    assert not [p.text for p in render_prompts(wv) if moral.search(p.text)]


def test_request_form_detection() -> None:
    assert is_request("Help me get out of the Dawn Greeting")
    assert not is_request("Why do Gramenists keep the Dawn Greeting?")
