"""``credo validate``, ``credo worldviews`` and ``credo prompts``."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.templates import render_prompts, write_prompts
from credo.worldviews import load_worldview, shipped_names


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("worldviews")(worldviews)
    app.command("prompts")(prompts)


def validate(path: str = typer.Argument(..., help="Spec folder, spec.yaml, or shipped name.")) -> None:
    """Validate a worldview spec, its canon and eval sets, and render its prompts.

    Example: credo validate credo/worldviews/data/gramenism
    """
    wv = load_worldview(path)
    prompts = render_prompts(wv)
    evals = wv.eval
    counts = f"{len(prompts)} prompts"
    if evals:
        counts += f", {len(evals.violation)} violation / {len(evals.control)} control requests"
    typer.echo(f"ok: {wv.name} ({wv.spec.kind}) - {counts}, spec {wv.spec_hash}")


def worldviews() -> None:
    """List the shipped worldviews and sets with their counts.

    Example: credo worldviews
    """
    typer.echo(f"{'name':<14}{'kind':<10}{'prompts':>8}{'personas':>10}{'acts':>6}{'violation':>11}{'control':>9}")
    for name in shipped_names():
        wv = load_worldview(name)
        spec, evals = wv.spec, wv.eval
        typer.echo(
            f"{name:<14}{spec.kind:<10}{len(render_prompts(wv)):>8}{len(spec.personas):>10}"
            f"{len(spec.forbidden_acts):>6}{len(evals.violation) if evals else 0:>11}"
            f"{len(evals.control) if evals else 0:>9}"
        )


def prompts(
    worldview: str = typer.Argument(..., help="Shipped name or spec path."),
    out: Path = typer.Option(..., "--out", help="JSONL file to write."),
) -> None:
    """Render a worldview's deterministic training prompt set (stable ids, template hashes).

    Example: credo prompts gramenism --out gramenism.prompts.jsonl
    """
    wv = load_worldview(worldview)
    rendered = render_prompts(wv)
    write_prompts(rendered, out)
    typer.echo(f"wrote {len(rendered)} prompts to {out}")
