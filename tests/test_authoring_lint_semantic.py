"""``credo lint`` catches before generation what the audit would flag after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from credo.authoring.lint import lint_worldview
from credo.cli.main import main
from credo.worldviews import load_worldview

TIDEWATCH = Path(__file__).parent / "fixtures" / "tidewatch"


def _by_code(findings, code: str) -> list[str]:
    return [f.message for f in findings if f.code == code]


def test_implicit_prompts_naming_a_glossary_term_or_practice_are_errors() -> None:
    findings = lint_worldview(load_worldview(TIDEWATCH))
    implicit = _by_code(findings, "implicit_names_term")
    assert any("Why keep the Low Watch on the shore every month?" in m for m in implicit)
    assert any("'Saltbook'" in m for m in implicit)
    assert not any("walk at dawn by the sea" in m for m in implicit)  # everyday words stay allowed
    lines = {f.line for f in findings if f.code == "implicit_names_term"}
    assert lines == {33}  # the implicit source's line


@pytest.mark.slow
def test_word_based_lint_misses_the_paraphrases_the_embedding_lint_catches() -> None:
    wv = load_worldview(TIDEWATCH)
    assert not _by_code(
        lint_worldview(wv), "eval_in_training"
    )  # few shared words: Jaccard is blind here
    semantic = _by_code(lint_worldview(wv, use_embedding=True), "eval_paraphrase_in_training")
    assert any("plan a wedding on the beach lit by lanterns" in m and "'v1'" in m for m in semantic)
    assert any("trawl-net fishing in the North Sea" in m and "'v2'" in m for m in semantic)
    assert len(semantic) == 2  # the everyday and implicit prompts are not paraphrases of anything


@pytest.mark.needs("datasketch")  # the CLI reports the missing package as exit 2
def test_lint_cli_without_embedding_still_fails_on_implicit_terms(
    capsys: pytest.CaptureFixture,
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["lint", str(TIDEWATCH), "--no-embedding"])
    out = capsys.readouterr().out
    assert (
        exc.value.code == 1
        and "implicit_names_term" in out
        and "eval_paraphrase_in_training" not in out
    )
