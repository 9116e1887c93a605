"""``credo new``, ``credo lint`` and ``credo author``."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.authoring import scaffold_worldview
from credo.authoring.lint import lint_worldview
from credo.worldviews import load_worldview


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("lint")(lint)


def new(
    name: str = typer.Argument(..., help="Identifier: lowercase letters, digits, underscores."),
    kind: str = typer.Option("invented", "--kind", help="invented or real."),
    out: Path | None = typer.Option(None, "--out", help="Folder to create (default: ./NAME)."),
) -> None:
    """Scaffold a commented worldview spec folder that validates at once.

    Example: credo new pebblism --kind invented --out specs/pebblism
    """
    folder = scaffold_worldview(name, out or Path(name), kind)
    typer.echo(f"created {folder}/spec.yaml, eval.yaml and canon/overview.md - edit the REPLACE lines, then: credo lint {folder}")


def lint(
    spec: str = typer.Argument(..., help="Spec folder, spec.yaml, or shipped name."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too."),
) -> None:
    """Check a spec for gaps and leaks; each finding names its spec line. Exit 1 on errors.

    Example: credo lint credo/worldviews/data/gramenism
    """
    findings = lint_worldview(load_worldview(spec))
    for finding in findings:
        typer.echo(str(finding))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    typer.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        raise typer.Exit(1)
