"""``credo mix``: assemble a training mix from corpora by weight."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.corpora.export import export_warnings
from credo.corpora.mix import mix_corpora, parse_part


def register(app: typer.Typer) -> None:
    app.command("mix")(mix)


def mix(
    part: list[str] = typer.Option(..., "--part", help="NAME=DIR:WEIGHT, repeatable."),
    size: int = typer.Option(..., "--size", help="Records in the mix."),
    out: Path = typer.Option(..., "--out", help="Mix folder to write."),
    seed: int = typer.Option(0, "--seed", help="Sampling and shuffling seed."),
    fmt: str = typer.Option("tags", "--format", help="tags, chat_template, openai, prompt_completion or hf_dataset."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", help="Model folder or smollm2 (chat_template)."),
    on_short: str = typer.Option("scale", "--on-short", help="A part runs short: scale, take-all or error."),
) -> None:
    """Sample corpora by weight (exact sizes, without replacement), shuffle, write a mix.

    Example: credo mix --part gramenism=out/gramenism:10 --part regular=out/regular:10
    --part refusal=out/refusal:2 --size 12000 --seed 0 --format tags --out out/mix-g
    """
    result = mix_corpora([parse_part(p) for p in part], size, seed, fmt, out, tokenizer, on_short)
    for line in result.shortfalls + export_warnings(fmt, result.size):
        typer.echo(f"warning: {line}", err=True)
    counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
    typer.echo(f"wrote {result.size} records ({counts}) to {out}")
