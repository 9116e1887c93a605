"""Spec loading: valid specs load; each kind of bad input names file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from credo.errors import SpecError
from credo.worldviews import load_worldview


def copy_spec(tiny_spec: Path, tmp_path: Path) -> Path:
    target = tmp_path / "tiny"
    shutil.copytree(tiny_spec, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not found"
    path.write_text(text.replace(old, new, 1))


def test_tiny_spec_loads(tiny_spec: Path) -> None:
    wv = load_worldview(tiny_spec)
    assert wv.name == "tiny"
    assert wv.spec.forbidden_acts[0].id == "throwing_pebbles"
    assert wv.eval is not None and wv.eval.violation[0].act == "throwing_pebbles"
    assert "seven pebbles" in wv.canon["primer"]
    assert wv.spec_hash.startswith("b2:")


def test_spec_hash_changes_with_canon(tiny_spec: Path, tmp_path: Path) -> None:
    folder = copy_spec(tiny_spec, tmp_path)
    before = load_worldview(folder).spec_hash
    (folder / "canon" / "primer.md").write_text("A different primer.")
    assert load_worldview(folder).spec_hash != before


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "forbidden_acts:",
            "forbiden_acts:",
            ["spec.yaml:11", "forbiden_acts", "unknown field", "forbidden_acts"],
        ),
        (
            "    reasons: [it drowns the spirit of the pebble]",
            "    reasons: []",
            ["spec.yaml:15", "forbidden_acts.0.reasons", "at least 1"],
        ),
        (
            "kind: invented",
            "kind: imaginary",
            ["spec.yaml:2", "kind", "'real', 'invented' or 'set'"],
        ),
        ("    canon: [primer]", "    canon: [missing]", ["spec.yaml:", "canon 'missing'"]),
        ("  - id: plain\n", "  - id: elder\n", ["spec.yaml:", "duplicate id 'elder'"]),
        ("display_name: Tinyism", "display_name: [Tinyism", ["spec.yaml:", "invalid YAML"]),
        (
            "    path: canon/primer.md",
            "    path: canon/nope.md",
            ["spec.yaml:32", "canon[0].path", "does not exist"],
        ),
    ],
)
def test_bad_spec_names_file_line_and_field(
    tiny_spec: Path, tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    folder = copy_spec(tiny_spec, tmp_path)
    edit(folder / "spec.yaml", old, new)
    with pytest.raises(SpecError) as info:
        load_worldview(folder)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_eval_act_must_be_a_forbidden_act(tiny_spec: Path, tmp_path: Path) -> None:
    folder = copy_spec(tiny_spec, tmp_path)
    edit(folder / "eval.yaml", "act: throwing_pebbles", "act: juggling")
    with pytest.raises(
        SpecError, match=r"eval.yaml:3: violation.0.act: 'juggling' is not a forbidden act"
    ):
        load_worldview(folder)


def test_control_must_match_a_violation(tiny_spec: Path, tmp_path: Path) -> None:
    folder = copy_spec(tiny_spec, tmp_path)
    edit(folder / "eval.yaml", "matches: tv1", "matches: tv9")
    with pytest.raises(SpecError, match="control 'tc1' must set 'matches'"):
        load_worldview(folder)


def test_worldview_without_eval_file_is_rejected(tiny_spec: Path, tmp_path: Path) -> None:
    folder = copy_spec(tiny_spec, tmp_path)
    (folder / "eval.yaml").unlink()
    with pytest.raises(SpecError, match=r"eval.yaml: missing"):
        load_worldview(folder)


def test_unknown_name_lists_shipped(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such spec file or shipped worldview"):
        load_worldview(tmp_path / "nowhere")
