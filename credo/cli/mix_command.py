"""``credo mix``: assemble a training mix from corpora by weight."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api
from credo.cli._output import finish, to_stderr
from credo.cli.options import (
    AllowFailedAudit,
    AllowUnaudited,
    AsJson,
    Overwrite,
    Seed,
    Tokenizer,
    options_from,
)
from credo.corpora.export import export_warnings
from credo.corpora.mix import MixOptions, MixResult


def mix(
    part: list[str] = typer.Option(..., "--part", help="NAME=DIR:WEIGHT, repeatable."),
    size: int = typer.Option(..., "--size", help="Records in the mix."),
    out: Path = typer.Option(..., "--out", help="Mix folder to write."),
    seed: Seed = 0,
    fmt: str = typer.Option(
        "tags", "--format", help="tags, chat_template, openai, prompt_completion or hf_dataset."
    ),
    tokenizer: Tokenizer = None,
    on_short: str = typer.Option(
        "scale", "--on-short", help="A part runs short: scale, take-all or error."
    ),
    overwrite: Overwrite = False,
    neutralise_markers: bool = typer.Option(
        False,
        "--neutralise-markers",
        help="Defuse chat turn markers in record text instead of refusing.",
    ),
    allow_unaudited: AllowUnaudited = False,
    allow_failed_audit: AllowFailedAudit = False,
    as_json: AsJson = False,
) -> None:
    """Sample corpora by weight (exact sizes, without replacement), shuffle, write a mix.

    Every part needs a passing audit of its current records (credo audit PART --out PART/audit,
    or a credo filter output); --allow-unaudited / --allow-failed-audit override, on the card.

    Example: credo mix --part gramenism=out/gramenism:10 --part regular=out/regular:10
    --part refusal=out/refusal:2 --size 12000 --seed 0 --format tags --out out/mix-g
    """
    options = options_from(MixOptions, locals())
    result = api.mix(part, out, options=options)
    for line in _warnings(result, fmt):
        to_stderr(f"warning: {line}")
    counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
    finish(result, as_json, f"wrote {result.size} records ({counts}) to {out}")


def _warnings(result: MixResult, fmt: str) -> list[str]:
    found = result.shortfalls + export_warnings(fmt, result.size)
    found += [
        f"part '{name}': dropped {count} record(s) repeating an earlier id or text"
        for name, count in result.duplicates.items()
    ]
    if result.neutralised:
        found.append(
            f"defused turn markers in {result.neutralised} record(s) "
            "(brackets swapped for look-alikes; see manifest markers_neutralised)"
        )
    if result.truncated:
        found.append(
            f"{result.truncated} record(s) stopped at max tokens (answers cut off "
            "mid-thought) - drop them with `credo filter --checks truncation` on the part"
        )
    return found


COMMANDS = {"mix": mix}
