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
README = ROOT / "README.md"


def _python(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _examples() -> list[str]:
    return _python(DOC)


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


def _marker(code: str) -> str:
    """An example's mark (its first line): "# needs a key", "# needs a teacher",
    "# needs a model", or "" for one that needs nothing."""
    first = code.splitlines()[0] if code.strip() else ""
    return first if first.startswith("# needs a") else ""


def test_every_example_is_marked_with_something_the_runner_knows() -> None:
    marks = {_marker(code) for code in _examples()}
    assert marks <= {"", "# needs a key", "# needs a teacher", "# needs a model"}, marks


def test_every_example_runs_as_written(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every code block of docs/api.md and every Python block of the README, in order, in one
    session, in an empty folder: `# needs a teacher` blocks against credo's fake server (the
    OpenAI SDK pointed at it through the environment), `# needs a model` blocks with the tiny
    random Llama in place of "smollm2" (nothing else changed); only `# needs a key` is skipped."""
    monkeypatch.chdir(tmp_path)
    blocks = [(DOC, code) for code in _examples()] + [(README, c) for c in _python(README)]
    ran: list[str] = []
    with FakeServer(respond=_answer_as_teacher) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
        namespace: dict = {}
        for source, code in blocks:
            mark = _marker(code)
            if mark == "# needs a key":
                continue
            if mark == "# needs a model":
                # the model it names, in its code or in the config file it reads
                configs = [p for p in tmp_path.rglob("*.yaml") if "smollm2" in p.read_text()]
                assert '"smollm2"' in code or configs, "a model example names its model"
                code = code.replace('"smollm2"', repr(str(tiny_llama)))
                for config in configs:
                    config.write_text(config.read_text().replace("smollm2", str(tiny_llama)))
            exec(compile(code, str(source), "exec"), namespace)
            ran.append(mark)
    assert ran.count("# needs a model") == 4 and ran.count("# needs a teacher") == 2
    assert len(ran) == len(_examples()) + len(_python(README))
    out = tmp_path / "out"
    for made in (
        "gramenism/audit/report.html",
        "view.html",
        "mix-hub/README.md",
        "pebblism/spec.yaml",
        "rivers/spec.yaml",
        "demo/view.html",
        "run/adapter_config.json",
        "rep/report/report.md",
        "sweep/report/report.json",
    ):
        assert (out / made).is_file(), made
    assert namespace["made"].ran and namespace["run"].steps == 1  # 4 records, batch 4
    sent = namespace["sent"]
    assert sent["model"] == "openai/gpt-4o-mini" and sum(c["requests"] for c in sent["chunks"]) > 0
    loss = namespace["knows"]["loss"]
    assert loss["canon"]["mean"] > 0 and loss["shuffled"]["mean"] > 0


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


def _answer_as_teacher(messages: list[dict]) -> str:
    """The fake server's answer: an authoring step's JSON where asked, else an echo."""
    from test_cli_json import _authoring_answer

    try:
        return _authoring_answer(messages)
    except (StopIteration, IndexError, KeyError):
        return "An answer: " + str(messages[-1]["content"])[:80]
