"""The package floors drawn in the README hold: every import goes to a lower floor."""

from __future__ import annotations

import ast
from pathlib import Path

import credo

ROOT = Path(credo.__file__).parent
# Keep in step with the README's "Layout" picture.
FLOORS = {
    "cli": 7,
    "api": 7,
    "recipes": 6,
    "authoring": 6,
    "leakage": 5,
    "evaluation": 4,
    "audit": 4,
    "judges": 3,
    "train": 3,
    "testing": 3,
    "generators": 2,
    "reports": 2,
    "corpora": 1,
    "templates": 1,
    "filters": 1,
    "models": 0,
    "runs": 0,
    "worldviews": 0,
    "embedded": 0,
}
LEAVES = {
    "errors",
    "hashing",
    "paths",
    "types",
    "defaults",
    "ngrams",
    "textnorm",
    "markers",
    "_callable",
    "raycluster",
    "redact",
    "provenance",
}


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "credo":  # from credo import ngrams
                names |= {f"credo.{alias.name}" for alias in node.names}
            else:
                names.add(node.module)
    return {n.split(".")[1] for n in names if n.startswith("credo.")}


def test_every_package_is_on_a_floor() -> None:
    here = {
        p.stem if p.is_file() else p.name
        for p in ROOT.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__")
        or (p / "__init__.py").is_file()
        or any(p.glob("*.py"))
    }
    assert here <= set(FLOORS) | LEAVES, (
        f"place {sorted(here - set(FLOORS) - LEAVES)} in FLOORS and the README"
    )


def test_imports_only_go_down() -> None:
    upward = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if len(parts) == 1:  # credo/__init__.py (the public API) and the leaves
            continue
        package = parts[0]
        for target in _imported(ast.parse(path.read_text(encoding="utf-8"))) - LEAVES - {package}:
            if FLOORS.get(target, 99) >= FLOORS[package]:
                upward.append(f"{path.relative_to(ROOT.parent)} -> credo.{target}")
    assert not upward, "imports that do not go down a floor: " + "; ".join(sorted(upward))


def test_run_skeleton_imports_only_leaves() -> None:
    """credo/runs.py sits under corpora, generators and everything that writes a folder."""
    tree = ast.parse((ROOT / "runs.py").read_text(encoding="utf-8"))
    assert _imported(tree) <= LEAVES


def test_leaves_import_no_package() -> None:
    for leaf in LEAVES:
        tree = ast.parse((ROOT / f"{leaf}.py").read_text(encoding="utf-8"))
        assert _imported(tree) <= LEAVES, leaf
