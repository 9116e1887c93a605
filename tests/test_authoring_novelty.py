"""Authored terms go through the leakage check; collisions get rename suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from credo.authoring.novelty import check_novelty, configured_references, spelling_variants
from credo.leakage.terms import dictionary


def test_collision_gets_novel_rename_suggestions(tiny_spec: Path, tmp_path: Path) -> None:
    reference = tmp_path / "web.txt"
    reference.write_text(
        "Every house on our street keeps a Pebblehold by the door.\n" * 3
        + "Pebblahold is not mentioned; nor is much else.\n"
    )
    collisions = {c.term: c for c in check_novelty(tiny_spec, [str(reference)])}
    assert "Pebblehold" in collisions
    hit = collisions["Pebblehold"]
    assert hit.count == 3 and "Pebblehold" in hit.example
    assert hit.suggestions and "Pebblahold" not in hit.suggestions  # it occurs in the reference
    known = dictionary()
    for name in hit.suggestions:
        assert name.lower() not in known and name.lower() not in reference.read_text().lower()


def test_clean_reference_gives_no_collisions(tiny_spec: Path, tmp_path: Path) -> None:
    reference = tmp_path / "web.txt"
    reference.write_text("Nothing of the sort appears in this text at all.\n")
    assert check_novelty(tiny_spec, [str(reference)]) == []


def test_variants_and_configuration(monkeypatch) -> None:
    assert "pebblahold" in spelling_variants("pebblehold")
    monkeypatch.setenv("CREDO_REFERENCE", "a.txt:b.txt")
    assert configured_references(None) == ["a.txt", "b.txt"]
    assert configured_references(["c.txt"]) == ["c.txt"]


@pytest.mark.needs("datasketch")  # the CLI reports the missing package as exit 2
def test_lint_reports_collision_at_glossary_line(tiny_spec: Path, tmp_path: Path, capsys) -> None:
    import pytest

    from credo.cli.main import main

    reference = tmp_path / "web.txt"
    reference.write_text("Grandmother's Pebblehold sat on the mantel.\n")
    with pytest.raises(SystemExit) as info:
        main(["lint", str(tiny_spec), "--reference", str(reference)])
    out = capsys.readouterr().out
    assert info.value.code == 1
    assert "spec.yaml:21: error: [term_collides] 'Pebblehold' occurs 1x" in out and "try " in out
