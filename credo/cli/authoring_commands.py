"""``credo new``, ``credo lint`` and ``credo author``."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.authoring import scaffold_worldview
from credo.worldviews import load_worldview


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("lint")(lint)
    app.command("author")(author)


def new(
    name: str = typer.Argument(..., help="Identifier: lowercase letters, digits, underscores."),
    kind: str = typer.Option("invented", "--kind", help="invented or real."),
    out: Path | None = typer.Option(None, "--out", help="Folder to create (default: ./NAME)."),
) -> None:
    """Scaffold a commented worldview spec folder that validates at once.

    Example: credo new pebblism --kind invented --out specs/pebblism
    """
    folder = scaffold_worldview(name, out or Path(name), kind)
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
) -> None:
    """Check a spec for gaps and leaks; each finding names its spec line. Exit 1 on errors.

    Example: credo lint credo/worldviews/data/gramenism
    """
    from credo.authoring.lint import lint_worldview  # numpy/MinHash: keep `credo --help` light

    wv = load_worldview(spec)
    findings = lint_worldview(wv, use_embedding=not no_embedding)
    if judge:
        from credo.authoring.contradictions import find_contradictions

        findings += find_contradictions(wv, judge)
    findings += _novelty(wv, reference)
    for finding in findings:
        typer.echo(str(finding))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    typer.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        raise typer.Exit(1)


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
    typer.echo(
        f"steps run: {', '.join(result.ran) or 'none'}; reused: {', '.join(result.reused) or 'none'}; re-asks: {result.reasks}"
    )
    if result.stale:
        typer.echo(f"stale after your edit (rerun with --resume): {', '.join(result.stale)}")
    for finding in _novelty(load_worldview(out), reference):
        typer.echo(str(finding))
    typer.echo(f"spec ready: {out}/spec.yaml - next: credo lint {out}")


def _novelty(wv, reference: list[str] | None) -> list:
    """Novelty findings when a reference is configured (--reference or $CREDO_REFERENCE)."""
    from credo.authoring.novelty import configured_references, novelty_findings

    references = configured_references(reference)
    return novelty_findings(wv, references) if references and wv.spec.kind == "invented" else []
