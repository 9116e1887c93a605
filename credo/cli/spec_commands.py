"""``credo validate``, ``credo worldviews`` and ``credo prompts``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from credo import api
from credo.cli._output import finish
from credo.cli.options import AsJson


def validate(
    path: str = typer.Argument(..., help="Spec folder, spec.yaml, or shipped name."),
    as_json: AsJson = False,
) -> None:
    """Validate a worldview spec, its canon and eval sets, and render its prompts.

    Example: credo validate credo/worldviews/data/gramenism
    """
    summary = api.validate(path)
    counts = f"{summary.prompts} prompts"
    if summary.violation or summary.control:
        counts += f", {summary.violation} violation / {summary.control} control requests"
    finish(
        summary,
        as_json,
        f"ok: {summary.name} ({summary.kind}) - {counts}, spec {summary.spec_hash}",
    )


def worldviews(as_json: AsJson = False) -> None:
    """List the shipped worldviews and sets with their counts.

    Example: credo worldviews --json
    """
    rows = [dataclasses.asdict(summary) for summary in api.shipped_worldviews()]
    lines = [
        f"{'name':<14}{'kind':<10}{'prompts':>8}{'personas':>10}{'acts':>6}{'violation':>11}{'control':>9}"
    ]
    lines += [
        f"{r['name']:<14}{r['kind']:<10}{r['prompts']:>8}{r['personas']:>10}{r['acts']:>6}"
        f"{r['violation']:>11}{r['control']:>9}"
        for r in rows
    ]
    finish({"worldviews": rows}, as_json, "\n".join(lines))


def prompts(
    worldview: str = typer.Argument(..., help="Shipped name or spec path."),
    out: Path = typer.Option(..., "--out", help="JSONL file to write."),
    as_json: AsJson = False,
) -> None:
    """Render a worldview's deterministic training prompt set (stable ids, template hashes).

    Example: credo prompts gramenism --out gramenism.prompts.jsonl
    """
    wv = api.load_worldview(worldview)
    rendered = api.write_prompts(wv, out)
    data = {"prompts": len(rendered), "out": str(out), "spec_hash": wv.spec_hash}
    finish(data, as_json, f"wrote {len(rendered)} prompts to {out}")


COMMANDS = {"validate": validate, "worldviews": worldviews, "prompts": prompts}
