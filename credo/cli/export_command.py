"""``credo export``: a corpus or mix as a Hugging Face dataset folder (and Hub upload), or as
one trainer format."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command("export")(export)


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
    allow_unaudited: bool = typer.Option(
        False, "--allow-unaudited", help="Export without an audit of the current records."
    ),
    allow_failed_audit: bool = typer.Option(
        False, "--allow-failed-audit", help="Export although the audit failed (the card says so)."
    ),
    language: str = typer.Option("en", "--language", help="Card language code."),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", help="Model folder or smollm2 (--format chat_template)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the export files in an --out that holds other work."
    ),
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
    from credo.corpora.certificate import require_certificate
    from credo.corpora.io import read_records, records_path

    source = records_path(corpus)
    if push and not hub:
        hub = True  # --push uploads the hub folder; asking for it implies writing it
    if hub == bool(fmt):
        raise ConfigError("credo export needs exactly one of --hub or --format FMT")
    if hub:
        from credo.corpora.hub import push_hub_folder, write_hub_folder

        folder = write_hub_folder(
            source.parent,
            out or source.parent / "hub",
            license,
            language or None,
            push,
            license_name=license_name,
            allow_unaudited=allow_unaudited,
            allow_failed_audit=allow_failed_audit,
        )
        typer.echo(
            f"wrote {folder.records} records to {folder.path} (README.md, {folder.data_file.relative_to(folder.path)})"
        )
        if push:
            typer.echo(f"pushed to {push}: {push_hub_folder(folder.path, push, private)}")
        return
    from credo.corpora.export import (
        claim_export,
        export_mix,
        export_spec,
        export_warnings,
        refuse_forged_turns,
    )

    assert fmt is not None  # exactly one of --hub / --format, checked above
    export_spec(fmt)  # an unknown format (built in or a plugin's) names the known ones
    cert = require_certificate(source.parent, allow_unaudited, allow_failed_audit)
    records = list(read_records(source))
    refuse_forged_turns(records, source)  # before anything is created or said
    with claim_export(source, out, overwrite) as target:
        files = export_mix(records, fmt, target, tokenizer, source=source)
    if cert.override:
        typer.echo(
            f"warning: exported with {cert.override} ({cert.status}: {cert.reason})", err=True
        )
    for line in export_warnings(fmt, len(records)):
        typer.echo(f"warning: {line}", err=True)
    from credo.corpora.mix import truncated_count

    if truncated := truncated_count(records):
        typer.echo(f"warning: {truncated} record(s) stopped at max tokens (cut off)", err=True)
    written = ", ".join(v for k, v in files.items() if k != "records")
    typer.echo(f"wrote {len(records)} records as {fmt} to {target} ({written})")
