"""``credo show``: print where a corpus is, its counts and a few sample records."""

from __future__ import annotations

import itertools
from pathlib import Path

import typer

from credo.corpora import read_manifest, read_records, records_path
from credo.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("show")(show)


def show(
    corpus: Path = typer.Argument(..., help="A corpus folder or records JSONL."),
    n: int = typer.Option(2, "--n", help="How many records to print."),
) -> None:
    """Show a corpus: its location, counts from the manifest and sample records.

    Example: credo show out/demo-gramenism --n 3
    """
    if n < 0:
        raise ConfigError(f"--n {n}: must be 0 or more records")
    path = records_path(corpus)
    manifest = read_manifest(path.parent)
    typer.echo(f"corpus: {path.resolve()}")
    if manifest.get("counts"):
        typer.echo(f"counts: {manifest['counts']}")
    for record in itertools.islice(read_records(path), n):
        persona = record.meta.get("persona_id", "-")
        typer.echo(f"\n[{record.id}] persona={persona}\n  USER: {record.prompt}\n  ASSISTANT: {record.response}")
