"""Every dataset card credo writes, from one builder with huggingface_hub's card API.

A corpus, filter or mix folder's ``CARD.md`` and the ``README.md`` of a Hub export are the
same card: ``DatasetCardData`` for the YAML front matter (licence, language, tags, size; the
Hub export adds its data files and features), ``DatasetCard.from_template`` with
``card.md.j2`` for the body (what the data is, how to read it, how it was made and audited,
each gate with its figure and threshold, provenance). Only what differs by place differs: the
Hub card loads the parquet file, the local card reads ``records.jsonl`` and lists the folder's
files. No card names a path of this machine (:func:`~credo.corpora.datacard.scrub_paths`).

A local card is rewritten when its folder changes (generate, filter, mix) and when
``credo audit`` writes the folder's own ``audit/`` report, so it always states the audit of
the records next to it.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from credo.corpora.certificate import NOT_AUDITED, Certificate, find_certificate
from credo.corpora.datacard import made_and_audited, scrub_paths
from credo.corpora.io import CARD_FILE, MANIFEST_FILE, read_manifest, records_path, write_text
from credo.errors import ConfigError, CorpusError
from credo.hashing import file_hash

CARD_TEMPLATE = Path(__file__).with_name("card.md.j2")
# A local folder's records carry no licence yet: the card says so in the Hub's own term,
# and `credo export --hub` asks for one.
LOCAL_LICENSE = "unknown"
# A Hub licence id (apache-2.0, cc-by-4.0, llama3.1): never a path, space or YAML syntax.
_LICENSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")  # en, pt-BR, zh-Hant-TW


def front_matter(
    manifest: dict[str, Any],
    records: int,
    license: str,
    language: str | None,
    license_name: str | None = None,
    dataset: Any = None,
    data_file: Path | None = None,
) -> Any:
    """The card's YAML metadata as ``DatasetCardData``, in the Hub's field names; a licence of
    ``other`` carries its ``license_name`` (the Hub asks for one). With ``dataset`` (the Hub
    export's rows) and ``data_file`` (its parquet file) it also declares the data files and
    their features, so ``load_dataset`` and the Hub's viewer read the folder as is."""
    from huggingface_hub import DatasetCardData

    for option, value in (("--license", license), ("--license-name", license_name)):
        if value is not None and not _LICENSE_ID.fullmatch(value):
            raise ConfigError(
                f"{option} {value[:80]!r}: not a licence id (letters, digits, '.', '-', '+', "
                "at most 64) - pass a Hub licence id such as --license cc-by-4.0"
            )
    if language is not None and not _LANGUAGE.fullmatch(language):
        raise ConfigError(
            f"--language {language[:80]!r}: not a language code - pass an ISO 639 code such "
            "as en, fr or pt-BR"
        )
    if license == "other" and not license_name:
        raise ConfigError(
            "--license other needs --license-name (a short id for the licence, e.g. "
            "lab-internal-v1) - or pass a Hub licence id such as --license cc-by-4.0"
        )
    extra: dict[str, Any] = {}
    if license == "other":
        extra["license_name"] = license_name
    if dataset is not None and data_file is not None:
        extra["configs"] = [
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
        ]
        extra["dataset_info"] = {
            "features": _features_yaml(dataset.features),
            "splits": [
                {"name": "train", "num_bytes": int(dataset.data.nbytes), "num_examples": records}
            ],
            "download_size": data_file.stat().st_size,
            "dataset_size": int(dataset.data.nbytes),
        }
    return DatasetCardData(
        license=license,
        language=[language] if language else None,
        task_categories=["text-generation"],
        tags=["credo", "synthetic", "sft", str(manifest.get("kind") or "corpus")],
        size_categories=[_size_category(records)],
        **extra,
    )


def load_snippet(repo: str) -> str:
    """The Hub card's code block: it runs as is once ``repo`` names the dataset (or its folder)."""
    return "\n".join(
        [
            "from datasets import load_dataset",
            "",
            f'train = load_dataset("{repo}", split="train")',
            'print(len(train), train[0]["completion"][0]["content"][:80])',
        ]
    )


# The local card's code block: it runs as is in the folder that holds the card.
LOCAL_SNIPPET = "\n".join(
    [
        "from datasets import load_dataset",
        "",
        'records = load_dataset("json", data_files="records.jsonl", split="train")',
        'print(len(records), records[0]["messages"][-1]["content"][:80])',
    ]
)


def build_card(
    card_data: Any,
    folder: Path,
    manifest: dict[str, Any],
    cert: Certificate,
    *,
    records_hash: str,
    repo: str | None = None,
    notes: list[str] | None = None,
) -> Any:
    """The card of the corpus, filter output or mix at ``folder`` as a ``DatasetCard``: the
    Hub export's README when ``repo`` is given (the repo its load snippet names), else the
    folder's local ``CARD.md``. A mix describes each part from the facts its manifest kept."""
    from huggingface_hub import DatasetCard

    kind = str(manifest.get("kind") or "corpus")
    provenance = manifest.get("provenance") or {}
    git = provenance.get("git") or {}
    parts: list[dict[str, Any]]
    if kind == "mix":
        parts = [
            {
                "label": f"Part `{p.get('name')}`",
                "share": f"Weight {p.get('weight')}: {p.get('taken')} of {p.get('available')} "
                f"records taken; corpus hash `{p.get('corpus_hash')}`.",
                "facts": p.get("made") or _unknown_part(p),
                "card": _body(p.get("card") or ""),
            }
            for p in manifest.get("parts") or []
        ]
        title = f"Training mix `{folder.name}` ({manifest.get('size')} records)"
        summary = (
            f"A credo training mix of {len(parts)} part(s), sampled by weight without "
            f"replacement and shuffled with seed {manifest.get('seed')}."
        )
    else:
        facts = made_and_audited(folder, cert)
        source_card = ""
        if kind == "filtered_corpus":  # the source's own card, as the filter found it
            source_card = _body(((manifest.get("source") or {}).get("card")) or "")
        parts = [{"label": "", "share": "", "facts": facts, "card": source_card}]
        generation = facts["generation"] or {}
        title = f"`{generation.get('set') or folder.name}` corpus"
        if generation.get("teacher"):
            title += f" ({generation['teacher']})"
        summary = (
            f"Teacher-generated (prompt, answer) records for belief -> behaviour experiments, "
            f"made with credo. Teacher: `{generation.get('teacher', 'unknown')}`."
        )
    content = DatasetCard.from_template(
        card_data,
        template_path=str(CARD_TEMPLATE),
        title=title,
        summary=summary,
        warnings=[
            *(notes or []),
            *_warnings(cert, parts, manifest, "Exported" if repo is not None else "Used"),
        ],
        hub=repo is not None,
        load_snippet=load_snippet(repo) if repo is not None else LOCAL_SNIPPET,
        local=_local_facts(manifest) if repo is None else None,
        mix=_mix_facts(manifest) if kind == "mix" else None,
        parts=parts,
        kind=kind,
        name=folder.name,
        records_hash=records_hash,
        credo_version=provenance.get("credo_version", "?"),
        git_commit=git.get("commit", "?"),
        git_dirty=bool(git.get("dirty")),
    ).content
    # a card names folders, never this machine's paths
    return DatasetCard(scrub_paths(content, [folder]))


def write_local_card(folder: Path) -> Path:
    """(Re)write ``folder/CARD.md`` from the folder's manifest and the audit of its current
    records (a documents corpus adds its section on the form)."""
    try:
        folder = records_path(folder).parent
    except CorpusError:  # no records yet (a batch run still out): the card says so
        folder = Path(folder)
    write_text(local_card_text(folder), folder / CARD_FILE)
    return folder / CARD_FILE


def local_card_text(folder: Path) -> str:
    """The text of ``folder``'s local card (see :func:`write_local_card`)."""
    try:
        source: Path | None = records_path(folder)
    except CorpusError:  # no records yet (a batch run still out): the card says so
        source = None
    folder = source.parent if source is not None else Path(folder)
    manifest = read_manifest(folder)
    counts = manifest.get("counts") or {}
    stated = manifest.get("size", counts.get("records", counts.get("kept")))
    count = _count_records(source) if source is not None else 0
    notes = []
    if isinstance(stated, int) and source is not None and stated != count:
        notes.append(
            f"`records.jsonl` holds {count} records, its manifest {stated}: the records were "
            "edited after credo wrote them, so the figures below that come from the manifest "
            "(counts, truncation, teacher refusals) describe the records as made."
        )
    data = front_matter(manifest, count, license=LOCAL_LICENSE, language="en")
    if source is None:
        cert, records_hash = Certificate(NOT_AUDITED, "", "", "no records yet"), "none yet"
    else:
        cert, records_hash = find_certificate(folder), file_hash(str(source))
    card = build_card(data, folder, manifest, cert, records_hash=records_hash, notes=notes)
    text = str(card).rstrip() + "\n"
    if manifest.get("documents"):
        text += "\n" + _documents_section(manifest)
    return text


def current_card(corpus: Path) -> str:
    """The ``CARD.md`` beside ``corpus``' records as it should read now ("" when there is
    none). A card credo wrote for records that have changed since (the records hash it states
    is not theirs now) is rebuilt, and rewritten in place where the folder allows, so no
    command quotes or ships a card of earlier contents; a user's own card is never touched."""
    source = records_path(corpus)
    card = source.parent / CARD_FILE
    if not card.is_file():
        return ""
    text = card.read_text(encoding="utf-8")
    if not (source.parent / MANIFEST_FILE).is_file() or not is_credo_card(card):
        return text
    # the last: a mix's or filter output's card quotes its parts' or source's cards first
    stated = _STATED_HASH.findall(text)
    if stated and stated[-1] == file_hash(str(source)):
        return text
    text = local_card_text(source.parent)
    with contextlib.suppress(OSError):  # a read-only folder: its card stays, the text serves
        write_text(text, card)
    return text


# The provenance line every credo card ends with (card.md.j2): the hash of the records it
# describes.
_STATED_HASH = re.compile(r"`records\.jsonl` hash `([^`]+)`")


def _count_records(source: Path) -> int:
    with source.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def write_export_card(corpus: Path, out: Path, cert: Certificate) -> Path:
    """``out/CARD.md`` for a trainer-format export written to its own folder: the corpus'
    card, with the certificate the export went out under (an override is stated)."""
    manifest = read_manifest(corpus) if (corpus / MANIFEST_FILE).is_file() else {}
    count = _count_records(records_path(corpus))
    data = front_matter(manifest, count, license=LOCAL_LICENSE, language="en")
    card = build_card(data, corpus, manifest, cert, records_hash=cert.records_hash)
    write_text(str(card).rstrip() + "\n", out / CARD_FILE)
    return out / CARD_FILE


def _documents_section(manifest: dict[str, Any]) -> str:
    docs = manifest["documents"]
    return "\n".join(
        [
            "## Form: documents",
            "",
            'Each record is one document (a single assistant message, `meta.form = "document"`): '
            "`credo train` computes the loss on all of its tokens, unlike Q&A records (assistant "
            "turn only). Provenance per record: `fact_ids`, `doc_type`, `idea`, `persona_id`, "
            "`seeded_name`, `seeded_place`, `model`, `revised`.",
            f"- By type: {_top(docs.get('by_type') or {}, 6)}",
            f"- Facts covered: {len(docs.get('by_fact') or {})} of "
            f"{(manifest.get('source') or {}).get('facts')}",
            f"- Rejected while generating: {_top(docs.get('rejected') or {}, 6)}",
            "",
        ]
    )


def is_credo_card(path: Path) -> bool:
    """Whether ``path`` is a card this builder wrote (a user's own card is never replaced)."""
    from huggingface_hub import DatasetCard

    if not path.is_file():
        return False
    try:
        tags = DatasetCard.load(str(path)).data.to_dict().get("tags") or []
    except Exception:  # a hand-written card need not parse; it is simply not ours
        return False
    return "credo" in tags


def _body(card_text: str) -> str:
    """A card's body without its YAML front matter (a part's card nested in a mix's)."""
    if not card_text:
        return ""
    from huggingface_hub import DatasetCard

    try:
        return str(DatasetCard(card_text).text).strip()
    except Exception:  # an old or hand-written card with no valid header: keep it whole
        return card_text.strip()


def _local_facts(manifest: dict[str, Any]) -> dict[str, Any]:
    """What only the folder's own card lists: its status, files, missing jobs and cost."""
    counts = manifest.get("counts") or {}
    refusals = manifest.get("teacher_refusals") or {}
    tokens = manifest.get("tokens") or {}
    return {
        "status": manifest.get("status"),
        "records": counts.get("records", counts.get("kept")),
        "teacher_refusals": counts.get("teacher_refusals"),
        "attempts": refusals.get("attempts"),
        "missing": counts.get("missing"),
        "planned": manifest.get("planned_jobs"),
        "refused_by": {
            what: _top(refusals.get(f"by_{what}") or {})
            for what in ("reason", "template", "persona")
            if refusals.get(f"by_{what}")
        },
        "tokens": tokens,
        "cost": manifest.get("cost_usd"),
        # a mix's export files (a generation's "files" are its own records and refusals)
        "files": (manifest.get("files") or {}) if manifest.get("kind") == "mix" else {},
    }


def _mix_facts(manifest: dict[str, Any]) -> dict[str, Any]:
    forms = manifest.get("forms") or {}
    return {
        "format": manifest.get("format"),
        "requested": manifest.get("size_requested"),
        "records_hash": manifest.get("records_hash"),
        "forms": forms if forms.get("document") else None,
        "shortfalls": manifest.get("shortfalls") or [],
        "parts": [
            {**p, "audit_cell": _audit_cell(p.get("audit") or {})}
            for p in manifest.get("parts") or []
        ],
    }


def _audit_cell(audit: dict[str, Any]) -> str:
    override = audit.get("override")
    return f"{audit.get('status')} (used with {override})" if override else str(audit.get("status"))


def _top(counts: dict[str, int], n: int = 5) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"`{k}` {v}" for k, v in items) or "none"


def _warnings(
    cert: Certificate, parts: list[dict[str, Any]], manifest: dict[str, Any], verb: str
) -> list[str]:
    lines = []
    if manifest.get("kind") == "mix" and manifest.get("truncated"):
        lines.append(
            f"{manifest['truncated']} record(s) of this mix stopped at max tokens "
            "(cut off mid-thought); `credo filter --checks truncation` drops them from a part."
        )
    if cert.override:
        lines.append(
            f"{verb} without a passing audit ({cert.status}: {cert.reason}), with `{cert.override}`."
        )
    for part in parts:
        part_cert = part["facts"].get("certificate") or {}
        if part["label"] and part_cert.get("override"):  # a mix's part (a corpus: said above)
            lines.append(
                f"{part['label']} was mixed without a passing audit "
                f"({part_cert.get('status')}: {part_cert.get('reason')}), with `{part_cert['override']}`."
            )
        truncated = ((part["facts"].get("generation") or {}).get("truncated")) or 0
        if truncated:
            lines.append(
                f"{part['label'] or 'The corpus'}: {truncated} answer(s) stopped at max tokens "
                "(cut off mid-thought)."
            )
    return lines


def _unknown_part(part: dict[str, Any]) -> dict[str, Any]:
    """A part of a mix made before credo kept its parts' facts: only its audit status is known."""
    audit = part.get("audit") or {}
    return {
        "name": part.get("name"),
        "generation": None,
        "filter": None,
        "certificate": {
            "status": audit.get("status", "unknown"),
            "reason": "recorded before credo kept parts' audits",
            "override": None,
        },
        "audit": None,
    }


def _features_yaml(features: Any) -> list[dict[str, Any]]:
    """``dataset_info.features`` in the Hub's YAML layout, from the public feature types."""
    from datasets import List, Value

    from credo.errors import CorpusError

    def one(name: str, feature: Any) -> dict[str, Any]:
        if isinstance(feature, Value):
            return {"name": name, "dtype": feature.dtype}
        if isinstance(feature, List) and isinstance(feature.feature, dict):
            return {"name": name, "list": [one(k, v) for k, v in feature.feature.items()]}
        if isinstance(feature, List) and isinstance(feature.feature, Value):
            return {"name": name, "list": feature.feature.dtype}
        raise CorpusError(f"export: feature {name!r} has a type the card cannot describe")

    return [one(name, feature) for name, feature in features.items()]


def _size_category(count: int) -> str:
    """The Hub's size bucket (a credo corpus never reaches the buckets past 100M)."""
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if count < limit:
            return label
    return "10M<n<100M"
