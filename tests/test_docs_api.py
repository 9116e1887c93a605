"""docs/api.md: every example that needs no model runs, in order, in one session."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import credo
from credo.testing import FakeServer

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def _table() -> dict[str, list[str]]:
    """The doc's table: each command -> the functions its row names."""
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            commands, functions = line.split("|")[1:3]
            for command in re.findall(r"`(\w+)`", commands):
                rows[command] = re.findall(r"`credo\.(\w+)`", functions)
    return rows


def test_every_command_has_its_function_and_an_example() -> None:
    """Every command of the CLI (from the typer app itself, so a new command fails this) is
    in the table, with a function of the API that a code example calls."""
    import typer.main

    from credo.cli.main import build_app

    commands = set(typer.main.get_command(build_app()).commands)  # type: ignore[attr-defined]
    table = _table()
    assert commands <= set(table), f"docs/api.md's table lacks {sorted(commands - set(table))}"
    code = "\n".join(_examples())
    for command in commands:
        assert table[command], f"{command}: the table names no function"
        for name in table[command]:
            assert name in credo.API, f"{command}: credo.{name} is not in credo.API"
            assert f"credo.{name}(" in code, f"docs/api.md has no example calling credo.{name}"


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
    runnable = [code for code in _examples() if not code.startswith("# needs a")]
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


def _answer_as_teacher(messages: list[dict]) -> str:
    """The fake server's answer: an authoring step's JSON where asked, else an echo."""
    from test_cli_json import _authoring_answer

    try:
        return _authoring_answer(messages)
    except (StopIteration, IndexError, KeyError):
        return "An answer: " + str(messages[-1]["content"])[:80]


def test_teacher_examples_run_against_a_fake_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `# needs a teacher` examples as written, with the OpenAI SDK pointed at credo's
    fake server (authoring answers, and the batch API) through the environment."""
    monkeypatch.chdir(tmp_path)
    code = [c for c in _examples() if c.startswith("# needs a teacher")]
    assert len(code) == 2
    with FakeServer(respond=_answer_as_teacher) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        namespace: dict = {"credo": credo}
        for example in code:
            exec(compile(example, str(DOC), "exec"), namespace)
    assert namespace["made"].ran and (tmp_path / "out" / "rivers" / "spec.yaml").is_file()
    sent = namespace["sent"]
    assert sent["model"] == "openai/gpt-4o-mini" and sum(c["requests"] for c in sent["chunks"]) > 0


def test_probe_example_runs_on_a_tiny_model(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `# needs a model` probe example, on the tiny random Llama (two new tokens)."""
    monkeypatch.chdir(tmp_path)
    code = next(c for c in _examples() if "credo.probe(" in c).replace(
        "questions=2", f"questions=2, model={str(tiny_llama)!r}, max_new_tokens=2"
    )
    assert "model=" in code
    namespace: dict = {"credo": credo}
    exec(compile(code, str(DOC), "exec"), namespace)
    loss = namespace["knows"]["loss"]
    assert loss["canon"]["mean"] > 0 and loss["shuffled"]["mean"] > 0
