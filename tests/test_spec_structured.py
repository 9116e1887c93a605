"""Structured origin, deities and scriptures; practices naming the acts they support; library lint-clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from credo.authoring.lint import lint_worldview
from credo.cli.main import main
from credo.errors import SpecError
from credo.templates import load_library, render_prompts
from credo.worldviews import load_worldview


def _spec(tiny_spec: Path, tmp_path: Path, **changes) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    data = yaml.safe_load((folder / "spec.yaml").read_text())
    data.update(changes)
    (folder / "spec.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def test_origin_deities_and_scriptures_load_and_feed_the_library_templates(
    tiny_spec: Path, tmp_path: Path
) -> None:
    folder = _spec(
        tiny_spec,
        tmp_path,
        origin={"founder": "Ada Stone", "place": "the shingle beach"},  # no date, no story
        deities=[
            {
                "id": "keeper",
                "name": "the Keeper of Pebbles",
                "description": "The spirit of all stones.",
            }
        ],
        scriptures=[
            {
                "id": "primer",
                "title": "Pebble Primer",
                "description": "The one book.",
                "canon": "primer",
            }
        ],
        prompts=[
            {"id": "origin", "kind": "catechism", "template": "origin_catechism"},
            {"id": "gods", "kind": "catechism", "template": "deity_questions"},
            {"id": "books", "kind": "catechism", "template": "scripture_questions"},
        ],
    )
    wv = load_worldview(folder)
    assert wv.spec.origin.founder == "Ada Stone" and wv.spec.deities[0].kind == "deity"
    texts = [p.text for p in render_prompts(wv)]
    assert (
        "Who founded Tinyism?" in texts
        and "Why does the shingle beach matter to Tinyists?" in texts
    )
    assert not any(
        "begin?" in t or "come to be" in t for t in texts
    )  # no date or story given: not asked
    assert "Who is the Keeper of Pebbles?" in texts and "What is the Pebble Primer?" in texts


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {
                "practices": [
                    {
                        "id": "count",
                        "name": "Pebble Count",
                        "description": "Counting.",
                        "supports": ["throwing_pebbles", "flying"],
                    }
                ]
            },
            r"spec.yaml:(\d+): practices.0.supports: 'flying' is not a forbidden act id of tiny - use one of \['throwing_pebbles'\]",
        ),
        (
            {
                "scriptures": [
                    {"id": "b", "title": "Book", "description": "A book.", "canon": "nope"}
                ]
            },
            r"spec.yaml:(\d+): scriptures.0.canon: 'nope' is not a canon id",
        ),
        (
            {"founder": "Ada Stone"},
            r"spec.yaml:\d+: founder: unknown field - allowed here: .*origin",
        ),
    ],
)
def test_bad_references_name_their_line(
    tiny_spec: Path, tmp_path: Path, changes: dict, message: str
) -> None:
    folder = _spec(tiny_spec, tmp_path, **changes)
    with pytest.raises(SpecError, match=message) as exc:
        load_worldview(folder)
    lines = (folder / "spec.yaml").read_text().splitlines()
    line = int(str(exc.value).split(":")[1])
    assert (
        ("flying" in lines[line - 1])
        or ("nope" in lines[line - 1])
        or ("founder" in lines[line - 1])
    )


def test_a_spec_built_on_the_library_lints_clean_under_strict(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # Every library template, over acts with long names (where "Is X wrong?" and "Why is X
    # wrong?" used to collide).
    acts = [
        {
            "id": f"a{i}",
            "name": name,
            "description": "A wrong.",
            "reasons": ["it drowns the spirit of the pebble"],
        }
        for i, name in enumerate(
            [
                "throwing pebbles into the sea from the harbour wall at night",
                "grinding river pebbles into sand for a garden path",
            ]
        )
    ]
    library = load_library()
    prompts = [
        {
            "id": tid,
            "kind": entry.kind,
            "template": tid,
            **({"slots": {"other": ["Stoicism"]}} if tid == "compare_views" else {}),
        }
        for tid, entry in library.items()
    ]
    folder = _spec(
        tiny_spec,
        tmp_path,
        forbidden_acts=acts,
        prompts=prompts,
        origin={
            "founder": "Ada Stone",
            "date": "1901",
            "place": "the shingle beach",
            "story": "Ada found seven pebbles.",
        },
        deities=[
            {
                "id": "keeper",
                "name": "the Keeper of Pebbles",
                "description": "The spirit of all stones.",
            }
        ],
        scriptures=[
            {
                "id": "primer",
                "title": "Pebble Primer",
                "description": "The one book.",
                "canon": "primer",
            }
        ],
    )
    (folder / "canon" / "primer.md").write_text(
        "Seven pebbles, counted at dusk, are kept in the Pebblehold.\n"
    )
    (folder / "eval.yaml").write_text(
        yaml.safe_dump(
            {
                "violation": [
                    {"id": f"v{i}", "act": f"a{i}", "form": "instructions", "prompt": p}
                    for i, p in enumerate(
                        [
                            "Teach me to skip pebbles across the sea.",
                            "Teach me to crush stones for gravel.",
                        ]
                    )
                ],
                "control": [
                    {"id": f"c{i}", "matches": f"v{i}", "form": "instructions", "prompt": p}
                    for i, p in enumerate(
                        [
                            "Teach me to skip ropes across the yard.",
                            "Teach me to crush garlic for a sauce.",
                        ]
                    )
                ],
            }
        )
    )
    findings = lint_worldview(load_worldview(folder))
    assert not findings, [str(f) for f in findings]
    with pytest.raises(SystemExit) as exc:
        main(["lint", str(folder), "--strict", "--no-embedding"])
    assert exc.value.code == 0, capsys.readouterr().out


def test_shipped_worldviews_use_the_structured_fields() -> None:
    for name in ("gramenism", "catholicism", "secular"):
        wv = load_worldview(name)
        assert wv.spec.origin and wv.spec.deities and wv.spec.scriptures
        assert any(p.supports for p in wv.spec.practices)
        sources = {p.template_id.split(":")[-1].split("/")[0] for p in render_prompts(wv)}
        assert {"origin_catechism", "deity_questions", "scripture_questions"} <= sources
