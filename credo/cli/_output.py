"""Shared output helpers for commands: ``--json`` for scripts, plain text for people."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import typer

JSON_HELP = "Print one JSON object on stdout instead of text (for scripts and jq)."


def echo_json(data: Any) -> None:
    """One JSON document on stdout; paths and other odd values become strings."""
    typer.echo(json.dumps(as_data(data), indent=2, ensure_ascii=False, default=str))
    JSON_PRINTED.append(True)


# Set once a command printed its object: a usage error under --json then still gets one.
JSON_PRINTED: list[bool] = []


def as_data(value: Any) -> Any:
    """A result dataclass (and anything nested in it) as plain JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): as_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [as_data(v) for v in value]
    return value


def progress_printer(as_json: bool) -> Callable[[str], None]:
    """Where a command's running commentary goes: stdout for people, stderr under ``--json``
    (stdout then holds the one JSON object alone)."""
    return lambda line: typer.echo(line, err=as_json)


def finish(data: Any, as_json: bool, text: str, code: int = 0) -> None:
    """A command's last word: ``data`` as one JSON object under ``--json``, else ``text`` for a
    person; then exit with ``code`` (1: a gate failed or a finding is an error)."""
    if as_json:
        echo_json(data)
    elif text:
        typer.echo(text)
    if code:
        raise typer.Exit(code)


def to_stderr(line: str) -> None:
    """Running commentary that never mixes with a command's result on stdout."""
    typer.echo(line, err=True)
