"""``credo new``, ``credo lint`` and ``credo author``."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api
from credo.cli._output import finish, to_stderr
from credo.cli.options import AsJson, BaseUrl, MaxTokens, TeacherModel, options_from

Reference = typer.Option(
    None, "--reference", help="Reference text for the novelty check (or $CREDO_REFERENCE)."
)


def new(
    name: str = typer.Argument(..., help="Identifier: lowercase letters, digits, underscores."),
    kind: str = typer.Option("invented", "--kind", help="invented or real."),
    out: Path | None = typer.Option(None, "--out", help="Folder to create (default: ./NAME)."),
    as_json: AsJson = False,
) -> None:
    """Scaffold a commented worldview spec folder that validates at once.

    Example: credo new pebblism --kind invented --out specs/pebblism
    """
    from credo.authoring.scaffold import NewOptions

    folder = api.new(name, out, options=options_from(NewOptions, locals()))
    text = f"created {folder}/spec.yaml, eval.yaml and canon/overview.md - edit the REPLACE lines, then: credo lint {folder}"
    finish({"name": name, "kind": kind, "out": str(folder)}, as_json, text)


def lint(
    spec: str = typer.Argument(..., help="Spec folder, spec.yaml, or shipped name."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too."),
    judge: str | None = typer.Option(
        None, "--judge", help="PROVIDER/MODEL to check canon passages against tenets."
    ),
    references: list[str] = Reference,
    no_embedding: bool = typer.Option(
        False,
        "--no-embedding",
        help="Skip MiniLM: no semantic eval-paraphrase check (faster, words only).",
    ),
    as_json: AsJson = False,
) -> None:
    """Check a spec for gaps and leaks; each finding names its spec line. Exit 1 on errors.

    Example: credo lint credo/worldviews/data/gramenism
    """
    from credo.authoring.checkup import LintOptions

    options = options_from(LintOptions, locals(), references=references or ())
    report = api.lint(spec, options=options)
    lines = [*map(str, report.findings), f"{report.errors} error(s), {report.warnings} warning(s)"]
    finish(report, as_json, "\n".join(lines), report.exit_code)


def author(
    premise: str = typer.Argument(
        "", help="One paragraph describing the worldview (omit with --resume)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="New folder for the spec (must not exist unless --resume)."
    ),
    model: TeacherModel = None,
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
    max_tokens: MaxTokens = 4096,
    base_url: BaseUrl = None,
    references: list[str] = Reference,
    as_json: AsJson = False,
) -> None:
    """Author a new invented worldview from a premise, step by validated step.

    Example: credo author "A faith that reveres rivers and forbids damming them" --model openai/gpt-4o --out specs/rivers
    """
    from credo.authoring.author import AuthorOptions

    options = options_from(AuthorOptions, locals(), references=references or ())
    result = api.author(premise or None, out, options=options, log=to_stderr)
    lines = [
        f"steps run: {', '.join(result.ran) or 'none'}; reused: {', '.join(result.reused) or 'none'}; re-asks: {result.reasks}"
    ]
    if result.stale:
        lines.append(f"stale after your edit (rerun with --resume): {', '.join(result.stale)}")
    lines += [*result.novelty, f"spec ready: {out}/spec.yaml - next: credo lint {out}"]
    finish(result, as_json, "\n".join(lines))


COMMANDS = {"new": new, "lint": lint, "author": author}
