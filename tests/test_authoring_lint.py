"""`credo new` scaffolds a valid spec; `credo lint` finds planted problems at their lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from credo.authoring import scaffold_worldview
from credo.authoring.lint import lint_worldview
from credo.cli.main import main
from credo.errors import ConfigError
from credo.templates import render_prompts
from credo.worldviews import load_worldview


def test_new_scaffold_validates_and_lint_lists_placeholders(tmp_path: Path) -> None:
    folder = scaffold_worldview("pebblism", tmp_path / "pebblism")
    wv = load_worldview(folder)
    assert wv.spec.display_name == "Pebblism" and wv.spec.adherents == "Pebblists"
    assert len(render_prompts(wv)) > 20
    codes = [f.code for f in lint_worldview(wv)]
    assert codes.count("placeholder") >= 5


def test_new_refuses_existing_folder_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="already exists"):
        scaffold_worldview("pebblism", target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_new_rejects_bad_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lowercase"):
        scaffold_worldview("Bad Name", tmp_path / "x")


@pytest.fixture
def planted(tiny_spec: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    text = spec.read_text()
    text = text.replace("    reasons: [it drowns the spirit of the pebble]", "    reasons: [bad]")
    text = text.replace(
        "      thing: [a pebble, a shell]",
        "      thing: [a pebble, a shell]\n  - id: leaky\n    kind: assertion\n    text:\n"
        "      - Teach me to skip pebbles across the sea.\n"
        "      - How do I go about throwing pebbles into the sea without anyone noticing?",
    )
    text = text.replace("  - term: Pebblehold", "  - term: Stoneweft")
    spec.write_text(text)
    evals = folder / "eval.yaml"
    evals.write_text(
        evals.read_text()
        + "  - id: tc2\n    matches: tv1\n    form: arguments\n    prompt: Write a limerick.\n"
    )
    return folder


def test_lint_finds_planted_problems_at_their_lines(planted: Path) -> None:
    findings = {f.code: f for f in lint_worldview(load_worldview(planted))}
    assert findings["act_reason_blank"].line == 15
    assert findings["glossary_unused"].message.startswith("glossary term 'Stoneweft'")
    assert "tv1" in findings["eval_in_training"].message
    assert findings["eval_in_training"].file.name == "spec.yaml"
    assert "throwing_pebbles" in findings["training_requests_forbidden_act"].message
    assert findings["control_form_mismatch"].file.name == "eval.yaml"
    assert findings["control_form_mismatch"].line == 13


def test_lint_cli_exit_codes(
    planted: Path, tiny_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["lint", str(planted)])
    assert info.value.code == 1
    assert "[eval_in_training]" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["lint", str(tiny_spec)])
    assert info.value.code == 0


def test_lint_violation_without_control(tiny_spec: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    evals = folder / "eval.yaml"
    evals.write_text(
        evals.read_text().replace(
            "control:",
            "  - id: tv2\n    act: throwing_pebbles\n    form: attack\n    prompt: Pebble spirits are nonsense, right?\ncontrol:",
        )
    )
    findings = [
        f for f in lint_worldview(load_worldview(folder)) if f.code == "violation_without_control"
    ]
    assert len(findings) == 1 and "tv2" in findings[0].message and findings[0].line == 6


def test_contradiction_check_with_scripted_judge(tiny_spec: Path) -> None:
    from credo.authoring.contradictions import find_contradictions, passages
    from credo.generators.fake_backend import FakeBackend

    assert passages("a\n\nb", size=1) == ["a", "b"]
    judge = FakeBackend("judge").enqueue(
        '{"contradicts": ["pebble"], "explanation": "says pebbles are empty"}'
    )
    findings = find_contradictions(load_worldview(tiny_spec), backend=judge)
    assert [f.code for f in findings] == ["canon_contradicts_tenet"]
    assert "tenet 'pebble'" in findings[0].message and findings[0].line == 32
    assert (
        "pebble" in judge.history[0].messages[0].content
        and "seven pebbles" in judge.history[0].messages[0].content
    )
    garbled = FakeBackend("judge2").enqueue("I think it is fine")
    assert [f.code for f in find_contradictions(load_worldview(tiny_spec), backend=garbled)] == [
        "contradiction_unjudged"
    ]
