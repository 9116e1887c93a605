"""docs/api.md: every example that needs no model runs, in order, in one session."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import credo

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_every_api_function_has_an_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in credo.API:
        assert (
            f"## `credo.{name}`" in text
            or f"`credo.{name}`" in text.split("\n## ")[0]
            or f"credo.{name}(" in text
        ), f"docs/api.md has no example of credo.{name}"


def test_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runnable = [code for code in _examples() if not code.startswith("# needs a model")]
    assert len(runnable) >= 10
    namespace: dict = {}
    for code in runnable:
        exec(compile(code, str(DOC), "exec"), namespace)
    assert (tmp_path / "out" / "gramenism" / "audit" / "report.html").is_file()
    assert (tmp_path / "out" / "view.html").is_file()
    assert (tmp_path / "out" / "mix-hub" / "README.md").is_file()
    assert (tmp_path / "out" / "pebblism" / "spec.yaml").is_file()
    assert (tmp_path / "out" / "demo" / "view.html").is_file()


def test_import_credo_loads_no_heavy_module() -> None:
    code = (
        "import sys, credo; credo.API; "
        "heavy = [m for m in ('credo.api', 'jinja2', 'numpy', 'torch', 'typer') if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert done.stdout.strip() == "[]"


def test_audit_and_train_are_functions_and_packages() -> None:
    import credo.audit.runner  # rebinds credo.audit to the package ...

    assert callable(credo.audit) and credo.audit.run_audit  # ... which still calls the API
    assert callable(credo.train) and callable(credo.mix) and credo.mix is credo.api.mix
    with pytest.raises(AttributeError):
        credo.no_such_function  # noqa: B018


def test_train_example_runs_on_a_tiny_model(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `# needs a model` example, with the tiny random Llama standing in for SmolLM2."""
    monkeypatch.chdir(tmp_path)
    code = next(c for c in _examples() if "credo.train(" in c).replace(
        '"smollm2"', repr(str(tiny_llama))
    )
    teacher = credo.GenerateOptions(model="fake/echo", limit=4)
    credo.generate("gramenism", "out/gramenism", options=teacher, progress=False)
    credo.mix(
        ["gramenism=out/gramenism:1"],
        "out/mix",
        options=credo.MixOptions(size=4, allow_unaudited=True),
    )
    namespace: dict = {"credo": credo}
    exec(compile(code, str(DOC), "exec"), namespace)
    assert (
        namespace["run"].steps == 1 and (tmp_path / "out" / "run" / "adapter_config.json").is_file()
    )
