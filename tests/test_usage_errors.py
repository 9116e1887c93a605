"""Click's own usage errors (unknown option, missing argument, a value that is not a number, an
option with no value, a bad choice) are one line that names the command, the option and the
fix, exit 2, for every command - never Typer's usage block and boxed message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main

from credo.cli.main import build_app, main

COMMANDS = typer.main.get_command(build_app()).commands  # type: ignore[attr-defined]


def _first(command: Any, annotation: type) -> str | None:
    for param in command.params:
        if param.param_type_name == "option" and param.type_descriptor.annotation is annotation:
            return str(param.opts[0])
    return None


def _cases() -> list[Any]:
    cases = []
    for name, command in COMMANDS.items():
        cases.append(
            pytest.param([name, "--no-such-option"], "--no-such-option", id=f"{name}-unknown")
        )
        required = [p for p in command.params if p.required]
        if required:
            first = required[0]
            says = (
                first.opts[0] if first.param_type_name == "option" else first.metavar or first.name
            )
            cases.append(pytest.param([name], says, id=f"{name}-missing"))
        for annotation, bad in ((int, "abc"), (float, "one")):
            option = _first(command, annotation)
            if option:
                cases.append(pytest.param([name, option, bad], option, id=f"{name}-bad-{bad}"))
        valued = _first(command, str) or _first(command, int) or _first(command, Path)
        if valued:
            cases.append(pytest.param([name, valued], valued, id=f"{name}-no-value"))
    return cases


CASES = _cases()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("argv", "says"), CASES)
def test_every_usage_error_is_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2, (argv, err)
    assert err.count("\n") == 1 and err.startswith(f"error: credo {argv[0]}: "), err
    assert says in err, err
    assert " - " in err  # the fix follows the dash
    assert "Traceback" not in err + out and "\u256d" not in err and "Usage:" not in err
    assert out == ""


def test_every_command_has_cases() -> None:
    ids = {str(p.id) for p in CASES}
    for name in COMMANDS:
        assert f"{name}-unknown" in ids, name
    assert len(COMMANDS) >= 23 and sum("-bad-abc" in i for i in ids) >= 14
    assert sum("-no-value" in i for i in ids) >= 20 and sum("-missing" in i for i in ids) >= 20


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["nosuchcommand"], "'credo --help'"),
        (["audit", "a", "b", "c"], "unexpected extra argument"),
        (["-v", "demo", "--limit"], "--limit"),
        (["--verbose"], "missing command"),
        (["generate", "spec", "--verbose"], "before the command: credo --verbose generate ..."),
    ],
)
def test_group_level_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and says in err, err
    assert "\u256d" not in err and "Traceback" not in err + out


@pytest.mark.parametrize(
    "argv",
    [
        ["mix", "--part", "w=c:1", "--size", "1", "--out", "m", "--format", "xx"],
        ["generate", "spec", "--out", "g", "--kind", "xx"],
        ["audit", "c", "--engine", "xx"],
        ["audit", "c", "--embedding", "xx"],
        ["judge", "c", "--out", "j", "--judge", "xx"],
        ["filter", "c", "--out", "f", "--checks", "nosuch"],
    ],
    ids=["mix-format", "generate-kind", "audit-engine", "audit-embedding", "judge", "filter"],
)
def test_a_bad_choice_is_one_line_naming_the_choices(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c").mkdir()
    row = {
        "id": "a",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
    }
    (tmp_path / "c" / "records.jsonl").write_text(json.dumps(row) + "\n")
    code, out, err = _run(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and ("xx" in err or "nosuch" in err), err
    assert any(word in err for word in ("one of", "use ", "expected")), err
    assert "\u256d" not in err and "Traceback" not in err + out


def test_help_and_json_errors_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["audit", "--help"], capsys)[0] == 0
    code, out, err = _run(["audit", "x", "--bogus", "--json"], capsys)
    assert code == 2 and json.loads(out)["exit_code"] == 2 and "--bogus" in json.loads(out)["error"]
    assert err.count("\n") == 1 and "--bogus" in err
