"""The package floors drawn in the README hold: every import goes to a lower floor."""

from __future__ import annotations

import ast
from pathlib import Path

import credo

ROOT = Path(credo.__file__).parent
# Keep in step with the README's "Layout" picture.
FLOORS = {
    "cli": 8,
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
    "schema",
    "_callable",
    "raycluster",
    "plugins",
    "redact",
    "provenance",
    "quiet",
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


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """Every credo module a module imports, at the top or inside a function (a lazy import
    still closes a circle): ``from credo.a import b`` names ``credo.a.b`` when b is a module."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("credo")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("credo"):
                continue
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            found |= subs or {node.module}
    return found & modules


def test_no_import_circles_between_modules() -> None:
    """No module reaches itself through imports: two modules that need each other are one
    concern split badly (move what both need into a third)."""
    from graphlib import CycleError, TopologicalSorter

    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {
        name: _module_imports(ast.parse(path.read_text(encoding="utf-8")), set(paths)) - {name}
        for name, path in paths.items()
    }
    # A package's __init__ re-exports its modules; a module importing its own package's
    # public names is not a circle of concerns, so edges into an __init__ from inside it go.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from None


# Inspect interop lives on the evaluation floor, in these modules only: the rest of credo
# never needs the optional `inspect` extra.
INSPECT_MODULES = {"evaluation/inspect_task.py", "evaluation/inspect_logs.py"}


def test_inspect_is_imported_only_by_its_modules() -> None:
    users = set()
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "inspect_ai" for n in names):
                users.add(path.relative_to(ROOT).as_posix())
    assert users == INSPECT_MODULES
    assert all(FLOORS[m.split("/")[0]] == FLOORS["evaluation"] for m in INSPECT_MODULES)
