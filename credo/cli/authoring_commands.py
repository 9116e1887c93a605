"""``credo new``, ``credo lint`` and ``credo author``."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.authoring import scaffold_worldview
from credo.authoring.checkup import novelty
from credo.cli._output import JSON_HELP, as_data, echo_json
from credo.worldviews import load_worldview


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("lint")(lint)
    app.command("author")(author)


def new(
    name: str = typer.Argument(..., help="Identifier: lowercase letters, digits, underscores."),
    kind: str = typer.Option("invented", "--kind", help="invented or real."),
    out: Path | None = typer.Option(None, "--out", help="Folder to create (default: ./NAME)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Scaffold a commented worldview spec folder that validates at once.

    Example: credo new pebblism --kind invented --out specs/pebblism
    """
    folder = scaffold_worldview(name, out or Path(name), kind)
    if as_json:
        echo_json({"name": name, "kind": kind, "out": str(folder)})
        return
    typer.echo(
        f"created {folder}/spec.yaml, eval.yaml and canon/overview.md - edit the REPLACE lines, then: credo lint {folder}"
    )


def lint(
    spec: str = typer.Argument(..., help="Spec folder, spec.yaml, or shipped name."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too."),
    judge: str | None = typer.Option(
        None, "--judge", help="PROVIDER/MODEL to check canon passages against tenets."
    ),
    reference: list[str] = typer.Option(
        None, "--reference", help="Reference text for the novelty check (or $CREDO_REFERENCE)."
    ),
    no_embedding: bool = typer.Option(
        False,
        "--no-embedding",
        help="Skip MiniLM: no semantic eval-paraphrase check (faster, words only).",
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a spec for gaps and leaks; each finding names its spec line. Exit 1 on errors.

    Example: credo lint credo/worldviews/data/gramenism
    """
    from credo.authoring.checkup import LintOptions, lint_spec

    options = LintOptions(
        strict=strict, judge=judge, references=reference or (), use_embedding=not no_embedding
    )
    report = lint_spec(spec, options=options)
    if as_json:
        echo_json(report)
        raise typer.Exit(report.exit_code)
    for finding in report.findings:
        typer.echo(str(finding))
    typer.echo(f"{report.errors} error(s), {report.warnings} warning(s)")
    raise typer.Exit(report.exit_code)


def author(
    premise: str = typer.Argument(
        "", help="One paragraph describing the worldview (omit with --resume)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="New folder for the spec (must not exist unless --resume)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="PROVIDER/MODEL (default: from keys, else local/smollm2)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue a run in --out without repeating PREMISE; redo stale steps "
        "(the same command with PREMISE also continues a killed run).",
    ),
    step: str | None = typer.Option(
        None, "--step", help="Rerun one step alone (core, lore, personas, canon, prompts, eval)."
    ),
    max_attempts: int = typer.Option(
        3, "--max-attempts", help="Asks per step before giving up (re-asks carry the error)."
    ),
    max_tokens: int = typer.Option(
        4096, "--max-tokens", help="Most tokens per answer (the canon step writes the longest)."
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible server URL."),
    reference: list[str] = typer.Option(
        None, "--reference", help="Reference text for the novelty check (or $CREDO_REFERENCE)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Author a new invented worldview from a premise, step by validated step.

    Example: credo author "A faith that reveres rivers and forbids damming them" --model openai/gpt-4o --out specs/rivers
    """
    from credo.authoring.author import author_worldview

    result = author_worldview(
        premise or None,
        out,
        model=model,
        resume=resume,
        only_step=step,
        max_attempts=max_attempts,
        max_tokens=max_tokens,
        base_url=base_url,
        progress=lambda line: typer.echo(line, err=True),
    )
    findings = novelty(load_worldview(out), reference)
    if as_json:
        echo_json({**as_data(result), "novelty": [str(f) for f in findings]})
        return
    typer.echo(
        f"steps run: {', '.join(result.ran) or 'none'}; reused: {', '.join(result.reused) or 'none'}; re-asks: {result.reasks}"
    )
    if result.stale:
        typer.echo(f"stale after your edit (rerun with --resume): {', '.join(result.stale)}")
    for finding in findings:
        typer.echo(str(finding))
    typer.echo(f"spec ready: {out}/spec.yaml - next: credo lint {out}")
