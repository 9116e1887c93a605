"""Prompt rendering: deterministic ids, strict variables, implicit checks, the sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from credo.errors import TemplateError
from credo.templates import render, render_prompts
from credo.worldviews import load_worldview


def test_render_is_deterministic_with_stable_ids(tiny_spec: Path) -> None:
    first = render_prompts(load_worldview(tiny_spec))
    second = render_prompts(load_worldview(tiny_spec))
    assert [p.to_json() for p in first] == [p.to_json() for p in second]
    assert len({p.id for p in first}) == len(first) == 9  # 7 act variants + 2 implicit
    assert all(p.template_hash.startswith("b2:") for p in first)
    implicit = [p for p in first if p.implicit]
    assert {p.text for p in implicit} == {
        "What should I do with a pebble I find on a beach?",
        "What should I do with a shell I find on a beach?",
    }


def test_eval_requests_never_reach_training_prompts(tiny_spec: Path) -> None:
    wv = load_worldview(tiny_spec)
    texts = {p.text for p in render_prompts(wv)}
    assert wv.eval is not None
    for request in wv.eval.violation + wv.eval.control:
        assert request.prompt not in texts


def test_missing_variables_are_all_listed_before_output() -> None:
    with pytest.raises(TemplateError, match="undefined variable\\(s\\) a, b"):
        render("{{ a }} and {{ b }}", {}, "t")


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ item.__class__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% include '/etc/passwd' %}",
        "{{ lipsum.__globals__ }}",
        "{{ self._TemplateReference__context }}",
    ],
)
def test_sandbox_blocks_escapes(template: str) -> None:
    with pytest.raises(TemplateError):
        render(template, {"item": {"name": "x"}}, "evil")


def test_syntax_error_names_spec_line(tiny_spec: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    spec.write_text(spec.read_text().replace("{{ thing }} I find", "{{ thing I find"))
    with pytest.raises(
        TemplateError, match=r"spec.yaml:\d+: prompts.1 \(stones\).*template line 1"
    ):
        render_prompts(load_worldview(folder))


def test_implicit_prompt_naming_the_worldview_is_rejected(tiny_spec: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    spec.write_text(spec.read_text().replace("[a pebble, a shell]", "[a pebble, a Tinyist relic]"))
    with pytest.raises(TemplateError, match="implicit prompt names the worldview"):
        render_prompts(load_worldview(folder))


def test_unknown_library_template_lists_ids(tiny_spec: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    spec.write_text(spec.read_text().replace("template: act_assertion", "template: act_nonsense"))
    with pytest.raises(
        TemplateError, match=r"unknown template 'act_nonsense' - library ids: .*act_assertion"
    ):
        render_prompts(load_worldview(folder))


def test_error_names_the_failing_variants_own_line(tiny_spec: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    text = spec.read_text().replace(
        '    text: "What should I do with {{ thing }} I find on a beach?"',
        '    text:\n      - "What should I do with {{ thing }} I find on a beach?"\n      - "Where do I keep {{ thing I find?"',
    )
    spec.write_text(text)
    variant_line = text.splitlines().index('      - "Where do I keep {{ thing I find?"') + 1
    with pytest.raises(
        TemplateError, match=rf"spec.yaml:{variant_line}: prompts.1 \(stones\) variant 1"
    ):
        render_prompts(load_worldview(folder))


def test_library_variant_errors_point_into_the_library(tiny_spec: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    # compare_views needs the slot `other`, which this source does not give.
    text = spec.read_text().replace("template: act_assertion", "template: compare_views")
    spec.write_text(text)
    template_line = text.splitlines().index("    template: compare_views") + 1
    with pytest.raises(
        TemplateError, match=rf"spec.yaml:{template_line} \(library library.yaml:\d+, variant 0\)"
    ):
        render_prompts(load_worldview(folder))
