"""Shared output helpers for commands: ``--json`` for scripts, plain text for people."""

from __future__ import annotations

import json
from typing import Any

import typer

JSON_HELP = "Print one JSON object on stdout instead of text (for scripts and jq)."


def echo_json(data: Any) -> None:
    """One JSON document on stdout; paths and other odd values become strings."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
