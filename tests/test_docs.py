"""Every CLI command is documented in the README and has help text with an example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from credo.cli.main import build_app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(cmd.name for cmd in typer.main.get_command(build_app()).commands.values())


def test_commands_exist() -> None:
    assert {"generate", "audit", "train", "eval", "judge", "leakage", "author"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_readme_and_has_an_example(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"credo {name}\b", readme), f"README does not mention `credo {name}`"
    command = typer.main.get_command(build_app()).commands[name]
    assert command.help and "Example" in command.help and f"credo {name}" in command.help


def test_readme_names_the_two_fresh_machine_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
