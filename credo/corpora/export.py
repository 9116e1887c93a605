"""A mix's export files, one format at a time, next to its ``records.jsonl``.

Each format is one module that declares itself (``EXPORTS`` in ``credo/corpora/*_export.py``:
``tags`` and ``chat_template`` in :mod:`~credo.corpora.text_export`, ``openai``,
``prompt_completion``, ``hf_dataset``); installed plugins add theirs through the
``credo.exports`` entry point group. This module collects them (the mix card is :mod:`credo.corpora.card`'s).

Every trainer-ready file also keeps ``id`` and ``meta`` (a JSON string in Arrow files, where
records' meta keys and types vary). ``prompt``/``completion`` is the dataset shape TRL's
``SFTTrainer`` (and Unsloth, which trains through it) puts loss on the completion only, with no
code and no template markers (``tests/test_trainer_exports.py`` checks it token by token).
``records.jsonl`` itself opens with ``load_dataset("json", data_files=...)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from credo.corpora.export_spec import ExportSpec
from credo.corpora.hf_dataset_export import arrow_rows, hf_dataset, write_hf_dataset
from credo.corpora.io import CARD_FILE
from credo.corpora.prompt_completion_export import conversational_row
from credo.corpora.text_export import message_record, text_row
from credo.errors import ConfigError, CorpusError
from credo.hashing import content_hash
from credo.models import load_tokenizer
from credo.plugins import EXPORTS, declared_in, with_plugins
from credo.runs import WORK_FILES, claim_output
from credo.types import Record

__all__ = [
    "MIX_FORMATS",
    "arrow_rows",
    "conversational_row",
    "export_formats",
    "export_mix",
    "export_spec",
    "export_warnings",
    "hf_dataset",
    "message_record",
    "refuse_forged_turns",
    "text_row",
    "tokenizer_identity",
    "write_hf_dataset",
]


@cache
def builtin_exports() -> tuple[ExportSpec, ...]:
    """The declarations of this package's ``*_export`` modules."""
    return tuple(declared_in("credo.corpora", "EXPORTS", suffix="_export"))


MIX_FORMATS = tuple(spec.name for spec in builtin_exports())  # built-ins; see export_formats()


def export_formats() -> dict[str, ExportSpec]:
    """Built-in and plugin formats by name; a plugin may not take a built-in's name."""
    return with_plugins(
        list(builtin_exports()), EXPORTS, kind=ExportSpec, name=lambda s: s.name, what="format"
    )


def export_spec(fmt: str) -> ExportSpec:
    """The declaration of a format; an unknown one lists the known ones."""
    specs = export_formats()
    if fmt not in specs:
        raise ConfigError(f"--format: unknown format '{fmt}' - use one of {', '.join(specs)}")
    return specs[fmt]


def refuse_forged_turns(records: list[Record], source: Path, extra: tuple[str, ...] = ()) -> None:
    """A turn marker of any chat format inside a message would be trained as a real turn by
    whoever loads the export: refuse, naming the first record, its format and the fix."""
    from credo.markers import forged_turns

    first = next(forged_turns(records, extra), None)
    if first is None:
        return
    folder = source.parent if source.suffix == ".jsonl" else source
    raise CorpusError(
        f"{source}: record '{first.record_id}' carries a forged {'/'.join(first.formats)} turn "
        f"marker {first.markers[0]!r} in its {first.role} message (messages[{first.message}]) - "
        f"exports refuse forged turns; drop them with `credo filter {folder} --checks structure "
        "--out CLEAN` and export CLEAN"
    )


def export_mix(
    records: list[Record],
    fmt: str,
    out: Path,
    tokenizer: str | None,
    source: Path | None = None,
) -> dict[str, str]:
    """Write the format's export file(s); returns ``{role: relative path}`` for the manifest.

    With ``source`` (the records file), records carrying forged turns are refused first (a
    mix checks them itself, before it may defuse them)."""
    if source is not None:
        from credo.markers import special_tokens

        extra = special_tokens(load_tokenizer(tokenizer)) if tokenizer else ()
        refuse_forged_turns(records, source, extra)
    return export_spec(fmt).write(records, out, tokenizer=tokenizer)


def export_warnings(fmt: str, count: int) -> list[str]:
    """What a provider will reject about an export of ``count`` records (empty when fine)."""
    spec = export_formats().get(fmt)
    return spec.warnings(count) if spec is not None and spec.warnings is not None else []


def tokenizer_identity(name_or_path: str) -> dict[str, Any]:
    """Enough to tell later whether a model's tokenizer formats the mix the same way."""
    tokenizer = load_tokenizer(name_or_path)
    template = getattr(tokenizer, "chat_template", None)
    return {
        "name": name_or_path,
        "class": type(tokenizer).__name__,
        "chat_template_hash": content_hash(template) if template else None,
    }


EXPORT_FILES = ("text.jsonl", "prompt_completion.jsonl", "openai.jsonl", "hf_dataset")


@contextmanager
def claim_export(source: Path, out: Path | None, overwrite: bool = False) -> Iterator[Path]:
    """The folder an export writes into, checked and locked for the block.

    By default the corpus's own folder (the export files sit beside its records); any other
    folder must not be the root or home, nor hold another corpus, mix or export, unless
    ``overwrite``.
    """
    target = source.parent if out is None else out
    own = target.expanduser().resolve() == source.parent.resolve()
    with claim_output(
        target,
        inputs=() if own else [source],
        overwrite=overwrite,
        replaceable=WORK_FILES if own else (),
        owns=() if own else (*EXPORT_FILES, CARD_FILE),
        command="credo export",
    ) as folder:
        yield folder
