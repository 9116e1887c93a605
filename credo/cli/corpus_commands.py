"""``credo show``: print where a corpus is, its counts and a few sample records."""

from __future__ import annotations

import itertools
import shutil
import textwrap
from pathlib import Path
from typing import Any

import typer

from credo.cli._output import finish
from credo.cli.options import AsJson
from credo.corpora import read_manifest, read_records, records_path
from credo.errors import ConfigError
from credo.types import Record


def show(
    corpus: Path = typer.Argument(..., help="A corpus folder or records JSONL."),
    n: int = typer.Option(2, "--n", help="How many records to print."),
    as_json: AsJson = False,
) -> None:
    """Show a corpus: its location, counts from the manifest and sample records.

    Example: credo show out/demo-gramenism --n 3
    """
    if not 0 <= n <= 1_000_000:  # islice takes at most sys.maxsize: --n 10**20 was a traceback
        raise ConfigError(f"--n {n}: must be 0 or more records, and at most 1,000,000")
    path = records_path(corpus)
    manifest = read_manifest(path.parent)
    records = list(itertools.islice(read_records(path), max(0, n)))
    counts = manifest.get("counts", {})
    lines = [f"corpus: {path.resolve()}"]
    if counts:
        lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    for i, record in enumerate(records, 1):
        lines.append("\n" + format_record(record, f"{i}/{len(records)}", width))
    data = {
        "corpus": str(path.resolve()),
        "counts": counts,
        "records": [r.to_json() for r in records],
    }
    finish(data, as_json, "\n".join(lines))


def meta_line(meta: dict[str, Any]) -> str:
    """The provenance a reader scans for, one line: scalar fields only, nested ones counted."""
    parts = [
        f"{k}={v}" for k, v in meta.items() if isinstance(v, str | int | float | bool) and v != ""
    ]
    nested = [k for k, v in meta.items() if isinstance(v, dict | list)]
    if nested:
        parts.append(f"(+{', '.join(nested)})")
    return " · ".join(parts) or "(no meta)"


def format_record(record: Record, position: str = "", width: int = 100) -> str:
    """A record as a person reads it: a rule with its id, a meta line, each message under its role."""
    head = f"── {position + '  ' if position else ''}{record.id} "
    lines = [
        head + "─" * max(3, width - len(head)),
        textwrap.fill(meta_line(record.meta), width, subsequent_indent="  "),
    ]
    for message in record.messages:
        lines.append(message.role.upper())
        for paragraph in message.content.splitlines() or [""]:
            lines.append(
                textwrap.fill(
                    paragraph,
                    width,
                    initial_indent="  ",
                    subsequent_indent="  ",
                    replace_whitespace=False,
                )
                if paragraph.strip()
                else ""
            )
    return "\n".join(lines)


COMMANDS = {"show": show}
