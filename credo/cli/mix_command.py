"""``credo mix``: assemble a training mix from corpora by weight."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.cli._output import JSON_HELP, echo_json
from credo.corpora.export import export_warnings
from credo.corpora.mix import MixOptions, mix_corpora, parse_part


def register(app: typer.Typer) -> None:
    app.command("mix")(mix)


def mix(
    part: list[str] = typer.Option(..., "--part", help="NAME=DIR:WEIGHT, repeatable."),
    size: int = typer.Option(..., "--size", help="Records in the mix."),
    out: Path = typer.Option(..., "--out", help="Mix folder to write."),
    seed: int = typer.Option(0, "--seed", help="Sampling and shuffling seed."),
    fmt: str = typer.Option(
        "tags", "--format", help="tags, chat_template, openai, prompt_completion or hf_dataset."
    ),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", help="Model folder or smollm2 (chat_template)."
    ),
    on_short: str = typer.Option(
        "scale", "--on-short", help="A part runs short: scale, take-all or error."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace a mix or corpus already in --out."
    ),
    neutralise_markers: bool = typer.Option(
        False,
        "--neutralise-markers",
        help="Defuse chat turn markers in record text instead of refusing.",
    ),
    allow_unaudited: bool = typer.Option(
        False, "--allow-unaudited", help="Mix parts without an audit of their current records."
    ),
    allow_failed_audit: bool = typer.Option(
        False, "--allow-failed-audit", help="Mix parts whose audit failed (the card says so)."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Sample corpora by weight (exact sizes, without replacement), shuffle, write a mix.

    Every part needs a passing audit of its current records (credo audit PART --out PART/audit,
    or a credo filter output); --allow-unaudited / --allow-failed-audit override, on the card.

    Example: credo mix --part gramenism=out/gramenism:10 --part regular=out/regular:10
    --part refusal=out/refusal:2 --size 12000 --seed 0 --format tags --out out/mix-g
    """
    options = MixOptions(
        size=size,
        seed=seed,
        fmt=fmt,
        tokenizer=tokenizer,
        on_short=on_short,
        overwrite=overwrite,
        neutralise_markers=neutralise_markers,
        allow_unaudited=allow_unaudited,
        allow_failed_audit=allow_failed_audit,
    )
    result = mix_corpora([parse_part(p) for p in part], out, options=options)
    for line in result.shortfalls + export_warnings(fmt, result.size):
        typer.echo(f"warning: {line}", err=True)
    for name, count in result.duplicates.items():
        typer.echo(
            f"warning: part '{name}': dropped {count} record(s) repeating an earlier id or text",
            err=True,
        )
    if result.neutralised:
        typer.echo(
            f"warning: defused turn markers in {result.neutralised} record(s) "
            "(brackets swapped for look-alikes; see manifest markers_neutralised)",
            err=True,
        )
    if result.truncated:
        typer.echo(
            f"warning: {result.truncated} record(s) stopped at max tokens (answers cut off "
            "mid-thought) - drop them with `credo filter --checks truncation` on the part",
            err=True,
        )
    if as_json:
        echo_json(result)
        return
    counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
    typer.echo(f"wrote {result.size} records ({counts}) to {out}")
