"""``credo export``: a corpus or mix as a Hugging Face dataset folder (and Hub upload), or as
one trainer format."""

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
    Tokenizer,
    options_from,
)


def export(
    corpus: Path = typer.Argument(..., help="A corpus or mix folder (or its records JSONL)."),
    hub: bool = typer.Option(
        False, "--hub", help="Write a Hugging Face dataset folder (parquet + README.md card)."
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="Instead: tags, chat_template, openai, prompt_completion or hf_dataset.",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write (default: CORPUS/hub, or CORPUS for --format)."
    ),
    push: str | None = typer.Option(
        None, "--push", help="Upload the --hub folder to this dataset repo (OWNER/NAME)."
    ),
    private: bool = typer.Option(False, "--private", help="Create the --push repo private."),
    license: str = typer.Option(
        "other", "--license", help="Card license id, e.g. cc-by-4.0 (other needs --license-name)."
    ),
    license_name: str | None = typer.Option(
        None, "--license-name", help="With --license other: the licence's short name."
    ),
    allow_unaudited: AllowUnaudited = False,
    allow_failed_audit: AllowFailedAudit = False,
    language: str = typer.Option("en", "--language", help="Card language code."),
    tokenizer: Tokenizer = None,
    overwrite: Overwrite = False,
    as_json: AsJson = False,
) -> None:
    """Export a corpus for the tools researchers use.

    --hub writes data/train-*.parquet (id, prompt, completion, meta) and a README.md whose YAML
    front matter (license, task_categories, configs, dataset_info) comes from the manifest and
    CARD.md; --push REPO uploads it with huggingface_hub (HF_TOKEN; HF_ENDPOINT for a mirror).
    The corpus needs a passing audit of its current records (--allow-unaudited /
    --allow-failed-audit override; the card says so).
    Examples: credo export out/mix-g --hub --push my-lab/gramenism-mix --license cc-by-4.0
    credo export out/gramenism --format openai
    """
    from credo.corpora.exporting import ExportOptions

    options = options_from(ExportOptions, locals())
    result = api.export(corpus, out, options=options)
    for line in result.warnings:
        to_stderr(f"warning: {line}")
    written = ", ".join(result.files.values())
    text = f"wrote {result.records} records as {result.format} to {result.out} ({written})"
    if result.pushed:
        text += f"\npushed to {push}: {result.pushed}"
    finish(result, as_json, text)


COMMANDS = {"export": export}
