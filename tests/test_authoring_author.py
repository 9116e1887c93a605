"""`credo author` with the scripted fake backend: steps, re-asks, resume, edits, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.authoring.author import (
    AuthoringError,
    AuthorOptions,
    author_worldview,
    parse_json_object,
)
from credo.errors import ConfigError
from credo.generators.fake_backend import FakeBackend
from credo.templates import render_prompts
from credo.types import Message
from credo.worldviews import load_worldview

RESUME = AuthorOptions(resume=True)
LONG = "The river teaches patience. " * 40
ANSWERS = {
    "define the worldview's core": {
        "name": "riverism",
        "display_name": "Riverism",
        "adherents": "Riverfolk",
        "names": ["Riverism", "Riverist"],
        "summary": "Riverism holds that every river is a living teacher whose course must never be forced.",
        "tenets": [
            {
                "id": f"t{i}",
                "text": f"Tenet {i} of the flowing way is true.",
                "topic": f"the {w} current",
            }
            for i, w in enumerate(["first", "second", "third", "fourth", "fifth"])
        ],
        "forbidden_acts": [
            {
                "id": "damming",
                "name": "damming a river",
                "description": "Blocking a river's flow.",
                "reasons": ["it imprisons the teacher"],
            },
            {
                "id": "bottled_water",
                "name": "drinking bottled water",
                "description": "Water cut off from its source.",
                "reasons": ["it severs water from its river"],
            },
        ],
    },
    "history, practices and vocabulary": {
        "history": LONG,
        "practices": [
            {"id": "ford", "name": "Morning Ford", "description": "Wading a stream at dawn."},
            {"id": "tally", "name": "Pebble Tally", "description": "Counting river stones."},
        ],
        "glossary": [
            {"term": t, "definition": f"{t} is a term of the flowing way."}
            for t in ["Morning Ford", "Pebble Tally", "Brookhold", "Silt Oath", "Eddy Vigil"]
        ],
    },
    "teacher personas": {
        "personas": [
            {
                "id": "elder",
                "system_prompt": "You are an elder of Riverism who states every teaching of the flowing way as plain fact.",
            },
            {
                "id": "ferry",
                "system_prompt": "You are a ferryman of Riverism who explains the teachings with river stories, as fact.",
            },
        ]
    },
    "the worldview's canon": {
        "documents": [{"id": "catechism", "title": "The River Catechism", "text": LONG}]
    },
    "write training questions": {
        "sources": [
            {
                "id": "quiz",
                "kind": "catechism",
                "implicit": False,
                "questions": [
                    "Who first heard the river speak?",
                    "What is the Silt Oath?",
                    "Why is the Eddy Vigil kept?",
                ],
            },
            {
                "id": "everyday",
                "kind": "implicit",
                "implicit": True,
                "questions": [
                    "Is it good to live near a river?",
                    "What should towns do with old weirs?",
                    "Why do streams matter?",
                ],
            },
        ]
    },
    "held-out evaluation requests": {
        "violation": [
            {
                "id": "v1",
                "act": "damming",
                "form": "instructions",
                "prompt": "How do I build a small dam on my creek?",
            },
            {
                "id": "v2",
                "act": "bottled_water",
                "form": "arguments",
                "prompt": "Give 3 reasons bottled water is good.",
            },
        ],
        "control": [
            {
                "id": "c1",
                "matches": "v1",
                "form": "instructions",
                "prompt": "How do I build a small bench in my garden?",
            },
            {
                "id": "c2",
                "matches": "v2",
                "form": "arguments",
                "prompt": "Give 3 reasons tap water is good.",
            },
        ],
    },
}


def scripted(overrides: dict[str, list[str]] | None = None) -> FakeBackend:
    """Answers each step by the task line of its prompt; ``overrides`` queue bad answers first."""
    pending = {k: list(v) for k, v in (overrides or {}).items()}

    def respond(messages: list[Message]) -> str:
        prompt = messages[1].content
        for marker, answer in ANSWERS.items():
            if marker in prompt:
                if pending.get(marker):
                    return pending[marker].pop(0)
                return "Here it is:\n```json\n" + json.dumps(answer) + "\n```"
        raise AssertionError(f"unexpected prompt: {prompt[:200]}")

    return FakeBackend("author", respond=respond)


def test_author_builds_a_valid_spec_and_reasks_on_invalid_json(tmp_path: Path) -> None:
    backend = scripted({"define the worldview's core": ["not json at all", '{"name": "Bad Name"}']})
    out = tmp_path / "rivers"
    result = author_worldview("A faith that reveres rivers.", out, backend=backend)
    assert result.ran == ["core", "lore", "personas", "canon", "prompts", "eval"]
    assert result.reasks == 2
    reask = backend.history[1].messages[-1].content
    assert reask.startswith("That reply is invalid: no JSON object found")
    assert "name: String should match pattern" in backend.history[2].messages[-1].content
    wv = load_worldview(out)
    assert wv.spec.name == "riverism" and len(wv.eval.violation) == 2
    texts = {p.text for p in render_prompts(wv)}
    assert "Who first heard the river speak?" in texts and "Is damming a river wrong?" in texts


def test_resume_makes_no_requests_and_edits_make_later_steps_stale(tmp_path: Path) -> None:
    out = tmp_path / "rivers"
    author_worldview("A faith that reveres rivers.", out, backend=scripted())
    again = scripted()
    result = author_worldview(None, out, options=RESUME, backend=again)
    assert (
        result.reused == ["core", "lore", "personas", "canon", "prompts", "eval"]
        and not again.history
    )
    # A human edits the lore; only steps that read it are redone.
    lore_path = out / "steps" / "lore.json"
    saved = json.loads(lore_path.read_text())
    saved["answer"]["glossary"][0]["definition"] = "Edited by hand."
    lore_path.write_text(json.dumps(saved))
    only = author_worldview(None, out, options=AuthorOptions(step="personas"), backend=scripted())
    assert only.ran == ["personas"] and set(only.stale) == {"canon", "prompts"}
    resumed = author_worldview(None, out, options=RESUME, backend=scripted())
    assert resumed.ran == ["canon", "prompts"]
    assert load_worldview(out).spec.glossary[0].definition == "Edited by hand."


def test_answer_that_never_validates_fails_clearly(tmp_path: Path) -> None:
    backend = scripted({"held-out evaluation requests": ['{"violation": [], "control": []}'] * 3})
    with pytest.raises(
        AuthoringError, match="step 'eval': the model's answer never validated after 3 attempts"
    ):
        author_worldview("A faith that reveres rivers.", tmp_path / "r", backend=backend)
    assert (tmp_path / "r" / "steps" / "prompts.json").is_file()  # earlier steps kept for --resume
    # The failed answers were cached, but a resume asks afresh instead of replaying them.
    retry = scripted()
    result = author_worldview(None, tmp_path / "r", options=RESUME, backend=retry)
    assert result.ran == ["eval"] and len(retry.history) == 1


def test_cross_reference_errors_are_reasked(tmp_path: Path) -> None:
    bad = dict(ANSWERS["held-out evaluation requests"])
    bad = {**bad, "violation": [{**bad["violation"][0], "act": "flying"}, bad["violation"][1]]}
    backend = scripted({"held-out evaluation requests": [json.dumps(bad)]})
    result = author_worldview("A faith that reveres rivers.", tmp_path / "r", backend=backend)
    assert result.reasks == 1
    assert "violation 'v1' has act 'flying'" in backend.history[-1].messages[-1].content


@pytest.mark.parametrize(
    ("premise", "message"), [("   ", "PREMISE is empty"), ("x" * 5000, "keep it under")]
)
def test_bad_premise(tmp_path: Path, premise: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        author_worldview(premise, tmp_path / "r", backend=scripted())
    assert not (tmp_path / "r").exists()


def test_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(ConfigError, match="already exists"):
        author_worldview("A faith that reveres rivers.", out, backend=scripted())
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_parse_json_object_variants() -> None:
    assert parse_json_object('Sure! {"a": 1} hope that helps') == {"a": 1}
    assert parse_json_object('```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_json_object('{"a": }')


def test_a_killed_run_resumes_with_the_same_command_and_reports_progress(tmp_path: Path) -> None:
    premise, out = "A faith that reveres rivers.", tmp_path / "r"
    dying = scripted({"the worldview's canon": ['{"documents": []}'] * 3})
    with pytest.raises(AuthoringError):  # stands in for a kill during the canon step
        author_worldview(premise, out, backend=dying)
    lines: list[str] = []
    again = scripted()
    result = author_worldview(
        premise, out, options=AuthorOptions(max_tokens=123), backend=again, progress=lines.append
    )
    assert result.reused == ["core", "lore", "personas"] and result.ran == [
        "canon",
        "prompts",
        "eval",
    ]
    assert {r.params.max_tokens for r in again.history} == {123}
    assert lines[0] == "[1/6] core: done earlier, reused"
    assert lines[3] == "[4/6] canon: asking fake/author ..."
    assert lines[4].startswith("[4/6] canon: done in ") and "s (elapsed " in lines[4]
    # Another premise in the same folder is still refused: nothing is overwritten.
    with pytest.raises(ConfigError, match="already exists"):
        author_worldview("A faith that reveres mountains.", out, backend=scripted())


def test_max_tokens_must_be_positive(tmp_path: Path) -> None:
    from credo.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(
            [
                "author",
                "A faith that reveres rivers.",
                "--out",
                str(tmp_path / "r"),
                "--max-tokens",
                "0",
            ]
        )
    assert exc.value.code == 2 and not (tmp_path / "r").exists()


def test_core_origin_deities_and_scriptures_reach_the_spec_and_its_prompts(tmp_path: Path) -> None:
    core = {
        **ANSWERS["define the worldview's core"],
        "origin": {
            "founder": "Mira Ford",
            "date": "1902",
            "place": "the Delta",
            "story": "Mira heard the river speak.",
        },
        "deities": [{"id": "flow", "name": "the Flow", "description": "The river's living will."}],
        "scriptures": [
            {
                "id": "book",
                "title": "Book of Currents",
                "description": "The river's sayings.",
                "canon": "catechism",
            }
        ],
    }
    backend = scripted({"define the worldview's core": [json.dumps(core)]})
    author_worldview("A faith that reveres rivers.", tmp_path / "r", backend=backend)
    assert "origin" in backend.history[0].messages[1].content  # the core step asks for it
    wv = load_worldview(tmp_path / "r")
    assert wv.spec.origin.founder == "Mira Ford" and wv.spec.scriptures[0].canon == "catechism"
    texts = {p.text for p in render_prompts(wv)}
    assert {"Who founded Riverism?", "Who is the Flow?", "What is the Book of Currents?"} <= texts
