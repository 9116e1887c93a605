"""``credo export`` as a library call: a corpus or mix as a Hub dataset folder, or as one
trainer format. The CLI builds :class:`ExportOptions` and calls :func:`export_corpus`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from credo.errors import ConfigError, CorpusError


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """``hub=True`` writes a Hugging Face dataset folder (``push`` also uploads it to that
    OWNER/NAME repo); ``fmt`` instead writes one trainer format. Exactly one of the two.

    The corpus needs a passing audit of its current records (:mod:`credo.corpora.certificate`)
    unless ``allow_unaudited`` / ``allow_failed_audit``; ``overwrite`` replaces the export
    files of a ``--format`` export in a folder that holds other work."""

    hub: bool = False
    fmt: str | None = None
    push: str | None = None
    private: bool = False
    license: str = "other"
    license_name: str | None = None
    allow_unaudited: bool = False
    allow_failed_audit: bool = False
    language: str = "en"
    tokenizer: str | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class ExportResult:
    out: Path
    records: int
    format: str  # "hub" or the trainer format
    files: dict[str, str]  # role -> path relative to ``out``
    warnings: list[str] = field(default_factory=list)
    pushed: str | None = None  # the Hub commit URL after a push


def export_corpus(
    corpus: str | Path, out: str | Path | None = None, *, options: ExportOptions
) -> ExportResult:
    """Write the export of ``corpus`` (a corpus or mix folder, or its records file) into
    ``out`` (default: ``CORPUS/hub`` for the Hub folder, the corpus folder for a format)."""
    from credo.corpora.io import records_path

    source = records_path(Path(corpus))
    hub = options.hub or bool(options.push)  # --push uploads the hub folder: it implies it
    if hub == bool(options.fmt):
        raise ConfigError("credo export needs exactly one of --hub or --format FMT")
    if hub:
        return _export_hub(source, Path(out) if out else source.parent / "hub", options)
    return _export_format(source, Path(out) if out else None, options)


def _export_hub(source: Path, out: Path, options: ExportOptions) -> ExportResult:
    from credo.corpora.card import current_card
    from credo.corpora.hub import push_hub_folder, write_hub_folder

    folder = write_hub_folder(
        source.parent,
        out,
        license=options.license,
        language=options.language or None,
        repo=options.push,
        license_name=options.license_name,
        allow_unaudited=options.allow_unaudited,
        allow_failed_audit=options.allow_failed_audit,
    )
    current_card(source)  # the corpus' own card, like the README, of the records as they are
    pushed = push_hub_folder(folder.path, options.push, options.private) if options.push else None
    files = {
        "readme": str(folder.readme.relative_to(folder.path)),
        "data": str(folder.data_file.relative_to(folder.path)),
    }
    return ExportResult(
        out=folder.path, records=folder.records, format="hub", files=files, pushed=pushed
    )


def _export_format(source: Path, out: Path | None, options: ExportOptions) -> ExportResult:
    from credo.corpora.card import current_card, write_export_card
    from credo.corpora.certificate import require_certificate
    from credo.corpora.export import (
        claim_export,
        export_mix,
        export_spec,
        export_warnings,
        refuse_forged_turns,
    )
    from credo.corpora.io import read_records
    from credo.corpora.mix import truncated_count

    fmt = options.fmt or ""
    export_spec(fmt)  # an unknown format (built in or a plugin's) names the known ones
    cert = require_certificate(source.parent, options.allow_unaudited, options.allow_failed_audit)
    records = list(read_records(source))
    if not records:  # as --hub: an empty training file would upload as if it were data
        raise CorpusError(f"{source}: no records to export - generate or mix some first")
    refuse_forged_turns(records, source)  # before anything is created or said
    with claim_export(source, out, options.overwrite) as target:
        files = export_mix(records, fmt, target, options.tokenizer, source=source)
        if target.resolve() != source.parent.resolve():
            files["card"] = write_export_card(source.parent, target, cert).name
        else:  # beside the corpus, its card serves: never one of earlier records
            current_card(source)
    warnings = []
    if cert.override:
        warnings.append(f"exported with {cert.override} ({cert.status}: {cert.reason})")
    warnings += export_warnings(fmt, len(records))
    if truncated := truncated_count(records):
        warnings.append(f"{truncated} record(s) stopped at max tokens (cut off)")
    written = {role: path for role, path in files.items() if role != "records"}
    return ExportResult(
        out=target, records=len(records), format=fmt, files=written, warnings=warnings
    )
