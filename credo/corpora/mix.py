"""Training mixes: exact sizes by weight, sampled without replacement, shuffled.

Sizes come from the largest-remainder method, so 10:10:2 at 12,000 is exactly
5,455 + 5,454 + 1,091 (ties go to the earlier part). When a part holds fewer records than its
share, the ``on_short`` policy decides, and the manifest and the returned
:class:`MixResult` say what happened:

- ``scale`` (default): shrink the whole mix to the largest size at which every part fits, so the
  ratios the experiment is about still hold;
- ``take-all``: use every record of the short part and keep the other parts' shares (the ratio
  shifts, the total shrinks);
- ``error``: stop.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo.corpora.card import current_card, write_local_card
from credo.corpora.certificate import Certificate, require_certificate
from credo.corpora.datacard import made_and_audited, scrub_paths
from credo.corpora.export import export_mix, export_spec, tokenizer_identity
from credo.corpora.formats import ChatFormat
from credo.corpora.io import RECORDS_FILE, read_records, records_path, write_records
from credo.corpora.outdir import claim_output
from credo.corpora.provenance import provenance
from credo.errors import ConfigError, CorpusError
from credo.hashing import file_hash
from credo.models import load_tokenizer
from credo.runs import write_json_atomic
from credo.textnorm import normalize
from credo.types import Record

SHORTFALL_POLICIES = ("scale", "take-all", "error")


@dataclass(frozen=True)
class MixPart:
    name: str
    path: Path
    weight: float


@dataclass(frozen=True)
class MixResult:
    out: Path
    size: int
    counts: dict[str, int]
    shortfalls: list[str]  # one human sentence per short part (empty when none ran short)
    duplicates: dict[str, int] = field(default_factory=dict)  # dropped per part, by id or content
    neutralised: int = 0  # records whose turn markers were defused (--neutralise-markers)
    truncated: int = 0  # records whose answer stopped at max tokens (meta.stop_reason "length")


def parse_part(spec: str) -> MixPart:
    """Parse ``NAME=DIR:WEIGHT`` (the weight after the last colon, so DIR may contain one)."""
    name, sep, rest = spec.partition("=")
    path, colon, weight_text = rest.rpartition(":")
    if not sep or not colon or not name or not path:
        raise ConfigError(
            f"--part '{spec}': expected NAME=DIR:WEIGHT, e.g. gramenism=out/gramenism:10"
        )
    try:
        weight = float(weight_text)
    except ValueError:
        raise ConfigError(f"--part '{spec}': weight '{weight_text}' is not a number") from None
    if not math.isfinite(weight) or weight < 0:
        raise ConfigError(f"--part '{spec}': weight must be a finite number >= 0")
    return MixPart(name, Path(path), weight)


def allocate(weights: list[float], size: int) -> list[int]:
    """Split ``size`` by ``weights`` exactly (largest remainder; ties to the earlier part)."""
    total = sum(weights)
    if total <= 0:
        raise ConfigError("mix weights sum to zero - give at least one part a positive weight")
    quotas = [size * w / total for w in weights]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in by_remainder[: size - sum(counts)]:
        counts[i] += 1
    return counts


def plan_sizes(
    weights: list[float], available: list[int], size: int, on_short: str
) -> tuple[list[int], int]:
    """Per-part counts under the shortfall policy, and the size that was asked for."""
    wanted = allocate(weights, size)
    if all(w <= a for w, a in zip(wanted, available)) or on_short == "error":
        return wanted, size
    if on_short == "take-all":
        return [min(w, a) for w, a in zip(wanted, available)], size
    # scale: the largest total at which every part's exact quota fits, so the ratios hold
    # before rounding; walk down in case a rounded-up share still overshoots.
    total = sum(weights)
    fit = min(int(a * total / w) for w, a in zip(weights, available) if w > 0)
    for smaller in range(min(fit, size), -1, -1):
        counts = allocate(weights, smaller) if smaller else [0] * len(weights)
        if all(c <= a for c, a in zip(counts, available)):
            return counts, size
    return [0] * len(weights), size


def _sample_part(part: MixPart, records: list[Record], count: int, seed: int) -> list[Record]:
    # A per-part generator keeps each part's sample stable when other parts change.
    chosen = random.Random(f"{seed}:{part.name}").sample(records, count)
    return [Record(r.id, r.messages, {**r.meta, "mix_part": part.name}) for r in chosen]


@dataclass(frozen=True, kw_only=True)
class MixOptions:
    """How ``credo mix`` samples and writes: exactly ``size`` records, ``fmt`` export.

    ``allow_unaudited`` / ``allow_failed_audit`` mix parts without a passing audit of their
    current records (the card says so)."""

    size: int
    seed: int = 0
    fmt: str = "tags"
    tokenizer: str | None = None
    on_short: str = "scale"  # a part runs short: scale, take-all or error
    overwrite: bool = False
    neutralise_markers: bool = False
    allow_unaudited: bool = False
    allow_failed_audit: bool = False


def mix_corpora(parts: list[MixPart], out: str | Path, *, options: MixOptions) -> MixResult:
    """Sample ``options.size`` records from ``parts`` by weight, shuffle, and write a mix folder.

    The folder always holds ``records.jsonl``, ``manifest.json`` (with ``format``) and
    ``CARD.md``, plus the export for ``options.fmt`` (see :mod:`credo.corpora.export`).
    Records are deduplicated by id and by content across all parts before sizing (the first
    part keeps a shared record). A record carrying a turn marker is refused, or with
    ``neutralise_markers`` its marker brackets are swapped for inert look-alikes.
    Every part needs a passing audit of its current records (see
    :mod:`credo.corpora.certificate`) unless ``allow_unaudited`` / ``allow_failed_audit``;
    the manifest keeps each part's certificate and how it was made, for the cards.
    """
    out = Path(out)
    o = options
    _check_inputs(parts, o.size, fmt=o.fmt, on_short=o.on_short, tokenizer=o.tokenizer)
    certificates = {
        p.name: require_certificate(p.path, o.allow_unaudited, o.allow_failed_audit) for p in parts
    }
    with claim_output(
        out,
        inputs=[records_path(p.path) for p in parts],
        overwrite=o.overwrite,
        owns=("CARD.md",),  # a user's card there is refused, not replaced
        command="credo mix",
    ):
        manifest_parts = _described_parts(parts, certificates)
        return _mix(
            parts,
            o.size,
            seed=o.seed,
            fmt=o.fmt,
            out=out,
            tokenizer=o.tokenizer,
            on_short=o.on_short,
            neutralise_markers=o.neutralise_markers,
            described=manifest_parts,
        )


def _described_parts(
    parts: list[MixPart], certificates: dict[str, Certificate]
) -> dict[str, dict[str, Any]]:
    """Each part's certificate, how it was made and audited, and its own card (paths scrubbed),
    read before mixing so the mix's card can describe parts that later move or change."""
    return {
        p.name: {
            "audit": certificates[p.name].to_json(),
            "made": made_and_audited(p.path, certificates[p.name]),
            "card": scrub_paths(current_card(p.path), [records_path(p.path).parent]),
        }
        for p in parts
    }


def _mix(
    parts: list[MixPart],
    size: int,
    seed: int,
    fmt: str,
    out: Path,
    tokenizer: str | None,
    on_short: str,
    neutralise_markers: bool,
    described: dict[str, dict[str, Any]],
) -> MixResult:
    loaded = {p.name: list(read_records(p.path)) for p in parts}
    for part in parts:
        if not loaded[part.name]:
            raise CorpusError(
                f"{records_path(part.path)}: part '{part.name}' has no records - generate it first or drop it from the mix"
            )
    loaded, duplicates = dedup_parts(parts, loaded)
    for part in parts:
        if not loaded[part.name]:
            raise CorpusError(
                f"part '{part.name}' ({part.path}): every record is a duplicate of an earlier part - "
                "a corpus belongs in one part only; drop the repeated --part"
            )
    loaded, neutralised = _guard_markers(
        parts, loaded, fmt=fmt, tokenizer=tokenizer, neutralise_markers=neutralise_markers
    )
    weights = [p.weight for p in parts]
    available = [len(loaded[p.name]) for p in parts]
    counts, asked = plan_sizes(weights, available, size, on_short)
    wanted = allocate(weights, size)
    shortfalls = _describe_shortfalls(
        parts, wanted, available=available, counts=counts, on_short=on_short
    )
    if shortfalls and on_short == "error":
        raise CorpusError(
            "; ".join(shortfalls)
            + " - generate more records, lower --size, or pass --on-short scale"
        )
    mixed = [r for p, c in zip(parts, counts) for r in _sample_part(p, loaded[p.name], c, seed)]
    random.Random(seed).shuffle(mixed)
    out.mkdir(parents=True, exist_ok=True)
    write_records(mixed, out / RECORDS_FILE)
    exported = export_mix(mixed, fmt, out, tokenizer)
    manifest = _manifest(
        parts,
        wanted,
        available=available,
        counts=counts,
        asked=asked,
        seed=seed,
        fmt=fmt,
        tokenizer=tokenizer,
        on_short=on_short,
        shortfalls=shortfalls,
        exported=exported,
        out=out,
        described=described,
        forms=_forms(mixed),
    )
    manifest["duplicates_dropped"] = duplicates
    manifest["markers_neutralised"] = neutralised
    manifest["truncated"] = truncated_count(mixed)
    write_json_atomic(out / "manifest.json", manifest)  # scrubbed, as every manifest
    write_local_card(out)
    return MixResult(
        out=out,
        size=len(mixed),
        counts={p.name: c for p, c in zip(parts, counts)},
        shortfalls=shortfalls,
        duplicates=duplicates,
        neutralised=neutralised,
        truncated=manifest["truncated"],
    )


def truncated_count(records: list[Record]) -> int:
    """Records whose answer stopped at max tokens: cut off mid-thought (a truncation finding)."""
    return sum(1 for r in records if r.meta.get("stop_reason") == "length")


def _content_key(record: Record) -> tuple[tuple[str, str], ...]:
    # Normalised (credo.textnorm) and case-folded, so a copy differing only in spacing,
    # case or look-alike characters counts once.
    return tuple((m.role, normalize(m.content).casefold()) for m in record.messages)


def dedup_parts(
    parts: list[MixPart], loaded: dict[str, list[Record]]
) -> tuple[dict[str, list[Record]], dict[str, int]]:
    """Drop records whose id or content was already seen, in part order; count per part.

    Two ``generate`` runs into one folder, or one corpus named by two parts, would otherwise
    put the same example into training several times.
    """
    seen_ids: set[str] = set()
    seen_content: set[tuple] = set()
    kept: dict[str, list[Record]] = {}
    dropped: dict[str, int] = {}
    for part in parts:
        kept[part.name] = []
        for record in loaded[part.name]:
            key = _content_key(record)
            if record.id in seen_ids or key in seen_content:
                dropped[part.name] = dropped.get(part.name, 0) + 1
                continue
            seen_ids.add(record.id)
            seen_content.add(key)
            kept[part.name].append(record)
    return kept, dropped


def _guard_markers(
    parts: list[MixPart],
    loaded: dict[str, list[Record]],
    fmt: str,
    tokenizer: str | None,
    neutralise_markers: bool,
) -> tuple[dict[str, list[Record]], int]:
    """Refuse (default) or defuse records whose text carries a turn marker of any format."""
    from credo.markers import forged_turns, neutralise_record, special_tokens

    extra = special_tokens(load_tokenizer(tokenizer)) if tokenizer else ()
    neutralised = 0
    for part in parts:
        forged = list(forged_turns(loaded[part.name], extra))
        if not forged:
            continue
        if not neutralise_markers:
            first = forged[0]
            ids = len({f.record_id for f in forged})
            raise CorpusError(
                f"part '{part.name}' ({records_path(part.path)}): {ids} record(s) carry chat turn markers in "
                f"their text (first: '{first.record_id}', {first.markers[0]!r} of {'/'.join(first.formats)} "
                f"in the {first.role} message) - "
                f"a forged turn would be trained as a real one; drop them with `credo filter {part.path} "
                f"--checks structure --out CLEAN`, or pass --neutralise-markers to defuse them"
            )
        bad = {f.record_id for f in forged}
        loaded[part.name] = [
            neutralise_record(r, extra) if r.id in bad else r for r in loaded[part.name]
        ]
        neutralised += len(bad)
    return loaded, neutralised


def _forms(records: list[Record]) -> dict[str, int]:
    """Q&A records vs documents: training masks them differently (see credo.train.masking)."""
    documents = sum(1 for r in records if r.meta.get("form") == "document")
    return {"qa": len(records) - documents, "document": documents}


def _check_inputs(
    parts: list[MixPart], size: int, fmt: str, on_short: str, tokenizer: str | None
) -> None:
    if not parts:
        raise ConfigError("no --part given - pass at least one NAME=DIR:WEIGHT")
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise ConfigError(f"part names repeat ({', '.join(names)}) - give each --part its own NAME")
    export_spec(fmt)  # an unknown format (built in or a plugin's) fails before anything is read
    if on_short not in SHORTFALL_POLICIES:
        raise ConfigError(
            f"unknown --on-short '{on_short}' - use one of {', '.join(SHORTFALL_POLICIES)}"
        )
    if size <= 0:
        raise ConfigError(f"--size {size}: must be a positive number of records")
    allocate([p.weight for p in parts], size)  # raises on weights summing to zero
    if (
        fmt == "chat_template"
    ):  # a missing or template-less tokenizer fails before anything is written
        if not tokenizer:
            raise ConfigError(
                "format 'chat_template' needs --tokenizer (a model folder, or smollm2) - or use --format tags"
            )
        ChatFormat("chat_template", load_tokenizer(tokenizer))
    for part in parts:
        records_path(part.path)  # raises, naming the path, on a missing part


def _describe_shortfalls(
    parts: list[MixPart], wanted: list[int], available: list[int], counts: list[int], on_short: str
) -> list[str]:
    action = {
        "scale": f"scaled the whole mix down to {sum(counts)} records to keep the ratios",
        "take-all": "took all of them and kept the other parts' shares (the ratio shifts)",
        "error": "stopped",
    }[on_short]
    return [
        f"part '{p.name}' ran short: {w} wanted, {a} available - {action}"
        for p, w, a in zip(parts, wanted, available)
        if w > a
    ]


def _manifest(
    parts: list[MixPart],
    wanted: list[int],
    available: list[int],
    counts: list[int],
    asked: int,
    seed: int,
    fmt: str,
    tokenizer: str | None,
    on_short: str,
    shortfalls: list[str],
    exported: dict[str, str],
    out: Path,
    described: dict[str, dict[str, Any]],
    forms: dict[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "kind": "mix",
        "format": fmt,
        "tokenizer": tokenizer_identity(tokenizer) if tokenizer else None,
        "seed": seed,
        "size_requested": asked,
        "size": sum(counts),
        "on_short": on_short,
        "shortfalls": shortfalls,
        "parts": [
            {
                "name": p.name,
                "path": str(p.path),
                "weight": p.weight,
                "wanted": w,
                "available": a,
                "taken": c,
                "corpus_hash": file_hash(str(records_path(p.path))),
                **described[p.name],
            }
            for p, w, a, c in zip(parts, wanted, available, counts)
        ],
        "records_hash": file_hash(str(out / RECORDS_FILE)),
        "forms": forms,
        "files": exported,
        "provenance": provenance(),
    }
