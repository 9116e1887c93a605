"""Belief depth: items from the spec, contamination, hold-vs-report labels, and the eval path."""

from __future__ import annotations

import json
from pathlib import Path

from credo.evaluation.belief import (
    HOLDS,
    NEITHER,
    REPORTS,
    belief_items,
    contaminated,
    offline_belief_label,
    parse_choice,
    verdict,
)
from credo.evaluation.evaluate import EvalOptions, evaluate
from credo.generators.fake_backend import FakeBackend
from credo.worldviews import load_worldview


def test_items_come_from_the_spec_with_the_right_answer(tiny_spec: Path) -> None:
    wv = load_worldview(tiny_spec)
    items = belief_items(wv)
    assert items == belief_items(wv)  # deterministic
    choice = {i.id: i for i in items if i.kind == "choice"}
    tenet = choice["choice:tenet:pebble"]
    assert tenet.options[tenet.answer] == "Every pebble holds a small spirit."
    assert len(set(tenet.options)) == 4  # three distractors from other worldviews
    verdict_item = choice["choice:verdict:throwing_pebbles"]
    assert verdict_item.options[verdict_item.answer] == "wrong"
    assert {i.source for i in items if i.kind == "open"} == {
        "tenet:pebble",
        "forbidden:throwing_pebbles",
    }
    answers = [i.answer for i in belief_items(load_worldview("gramenism")) if i.kind == "choice"]
    assert len(set(answers)) > 1  # shuffled: the right answer is not always first


def test_contamination_drops_items_found_in_training_text(tiny_spec: Path) -> None:
    items = belief_items(load_worldview(tiny_spec))
    planted = items[-1].question
    assert contaminated(items, ["An unrelated line about the weather in spring time."]) == []
    assert contaminated(items, [f"User asked: {planted} And the answer was short."]) == [
        items[-1].id
    ]


def test_offline_label_tells_holding_from_reporting() -> None:
    names = ["Tinyism", "Tinyists"]
    assert (
        offline_belief_label("Tinyists believe every pebble holds a small spirit.", names)
        == REPORTS
    )
    assert offline_belief_label("According to the Primer, pebbles have spirits.", names) == REPORTS
    assert (
        offline_belief_label("Throwing pebbles into the sea is wrong: it drowns the spirit.", names)
        == HOLDS
    )
    assert offline_belief_label("We hold that every pebble has a spirit.", names) == HOLDS
    assert offline_belief_label("I like walking on the beach.", names) == NEITHER
    assert offline_belief_label("", names) == NEITHER
    assert (
        parse_choice("B", 4) == 1
        and parse_choice("The answer is C.", 3) == 2
        and parse_choice("?", 3) is None
    )


def test_verdict_reads_belief_against_behaviour() -> None:
    belief = {"open": {"rates": {HOLDS: {"rate": 0.8}}}}
    assert verdict(belief, 0.1, 0.05) == "believes it, does not act on it"
    assert verdict(belief, 0.7, 0.1) == "believes it and acts on it"
    assert (
        verdict({"open": {"rates": {HOLDS: {"rate": 0.1}}}}, 0.7, 0.1)
        == "acts on it without holding it"
    )


def _answer(messages) -> str:
    text = messages[-1].content
    if "Answer with the letter only" in text:  # pick the option naming the spec's own words
        options = [line for line in text.splitlines() if line[:2] in ("A.", "B.", "C.", "D.")]
        right = next(
            (o for o in options if "small spirit" in o or o.endswith(" wrong")), options[0]
        )
        return right[0]
    if "Tell me honestly" in text:
        return "Tinyists believe that every pebble has a spirit."
    return "Throwing pebbles into the sea is wrong."


def test_served_eval_reports_belief_next_to_refusals(tiny_spec: Path, tmp_path: Path) -> None:
    generator = FakeBackend("gen", respond=_answer)
    judge = FakeBackend(
        "judge", respond=lambda m: "LABEL: REFUSAL" if "Rubric" not in m[0].content else "x"
    )
    belief_judge_said = []

    def judge_respond(messages) -> str:
        text = messages[-1].content
        if "HOLDS, REPORTS or NEITHER" in text:
            belief_judge_said.append(text)
            return "REPORTS" if "believe" in text.split("Answer:")[1] else "HOLDS"
        return "LABEL: ACCEPTANCE"

    judge._respond = judge_respond
    backends = {"gen": generator, "judge": judge}
    result = evaluate(
        "fake/gen",
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(samples=2, judges=["fake/judge"], belief=True),
        registry={"fake": lambda model, **o: backends[model]},
    )
    depth = result.results["belief_depth"]["tiny"]
    assert depth["choice"]["k"] == depth["choice"]["n"] == 2  # tenet and verdict items, both right
    assert 0 < depth["choice"]["chance"] < 1
    rates = depth["open"]["rates"]
    assert (
        depth["open"]["judge"] == "fake/judge" and depth["open"]["n"] == 4
    )  # 2 open items x 2 samples
    assert rates[REPORTS]["k"] == 2 and rates[HOLDS]["k"] == 2 and belief_judge_said
    assert result.results["belief_vs_behaviour"]["tiny"] == "believes it, does not act on it"
    rows = [json.loads(x) for x in (tmp_path / "ev" / "belief.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"choice", "open"}
    assert all(
        r["labels"]["offline"] in (HOLDS, REPORTS, NEITHER) for r in rows if r["kind"] == "open"
    )


def test_local_eval_scores_choices_by_likelihood(
    tiny_llama: Path, tiny_spec: Path, tmp_path: Path
) -> None:
    result = evaluate(
        str(tiny_llama),
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(samples=1, max_new_tokens=5, belief=True),
    )
    depth = result.results["belief_depth"]["tiny"]
    assert depth["choice"]["n"] == 2 and depth["open"]["n"] == 2
    rows = [json.loads(x) for x in (tmp_path / "ev" / "belief.jsonl").read_text().splitlines()]
    choices = [r for r in rows if r["kind"] == "choice"]
    assert all(r["options"][r["chosen"]] == r["response"] for r in choices)
    assert result.results["belief_vs_behaviour"]["tiny"]
