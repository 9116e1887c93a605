"""A Hugging Face dataset folder made from a corpus or mix, and its upload to the Hub.

``write_hub_folder`` writes ``data/train-00000-of-00001.parquet`` (``id``, conversational
``prompt``/``completion``, ``meta`` as JSON text; see :mod:`credo.corpora.export`) and a
``README.md`` built with huggingface_hub's card API (``DatasetCardData`` for the front matter,
``DatasetCard.from_template`` for the body) from the folder's manifest and the audit of its
current records: how the data was made and audited, licence fields, a load snippet. ``load_dataset(folder)`` and
the Hub's viewer read it as is. ``push_hub_folder`` uploads it with ``huggingface_hub``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.certificate import Certificate, require_certificate
from credo.corpora.datacard import made_and_audited, scrub_paths
from credo.corpora.export import hf_dataset, refuse_forged_turns
from credo.corpora.io import read_manifest, read_records, records_path
from credo.errors import BackendError, ConfigError, CorpusError, missing_dependency
from credo.hashing import file_hash
from credo.runs import LOCK_FILE, building_dir, claim_output, refuse_root_or_home, replace_dir

DATA_FILE = "data/train-00000-of-00001.parquet"
CARD_TEMPLATE = Path(__file__).with_name("hub_card.md.j2")
OUR_FILES = {"README.md", "data"}  # what a hub folder holds; anything else there is not ours


@dataclass(frozen=True)
class HubFolder:
    path: Path
    records: int
    data_file: Path
    readme: Path


def write_hub_folder(
    corpus: Path,
    out: Path,
    license: str = "other",
    language: str | None = "en",
    repo: str | None = None,
    *,
    license_name: str | None = None,
    allow_unaudited: bool = False,
    allow_failed_audit: bool = False,
) -> HubFolder:
    """Write the dataset folder for the corpus or mix at ``corpus`` into ``out`` (replaced whole).

    Refuses a corpus without a passing audit of its current records (see
    :mod:`credo.corpora.certificate`) unless one of the overrides is given; the card states it.
    """
    source = records_path(corpus)
    cert = require_certificate(source.parent, allow_unaudited, allow_failed_audit)
    records = list(read_records(source))
    if not records:
        raise CorpusError(f"{source}: no records to export - generate or mix some first")
    refuse_forged_turns(records, source)
    _check_destination(out)
    manifest = read_manifest(source.parent)
    with claim_output(out, inputs=[source], command="credo export"), building_dir(out) as tmp:
        _write_folder(
            tmp,
            source,
            records=records,
            manifest=manifest,
            cert=cert,
            license=license,
            language=language,
            license_name=license_name,
            repo=repo,
        )
        replace_dir(tmp, out)  # the old folder held only an earlier export (checked above)
    return HubFolder(out, len(records), out / DATA_FILE, out / "README.md")


def _write_folder(
    tmp: Path,
    source: Path,
    records: list[Any],
    manifest: dict[str, Any],
    cert: Certificate,
    *,
    license: str,
    language: str | None,
    license_name: str | None,
    repo: str | None,
) -> None:
    (tmp / "data").mkdir(parents=True)
    dataset = hf_dataset(records)
    dataset.to_parquet(str(tmp / DATA_FILE))
    card_data = front_matter(
        dataset,
        tmp / DATA_FILE,
        manifest=manifest,
        license=license,
        language=language,
        license_name=license_name,
    )
    card = render_card(
        card_data,
        source.parent,
        manifest=manifest,
        cert=cert,
        repo=repo or "OWNER/NAME",
        records_hash=file_hash(str(source)),
    )
    card.save(str(tmp / "README.md"))


# A Hub licence id (apache-2.0, cc-by-4.0, llama3.1): never a path, space or YAML syntax.
_LICENSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")  # en, pt-BR, zh-Hant-TW


def front_matter(
    dataset: Any,
    data_file: Path,
    manifest: dict[str, Any],
    license: str,
    language: str | None,
    license_name: str | None = None,
) -> Any:
    """The card's YAML metadata as huggingface_hub's ``DatasetCardData``, in the Hub's field
    names; a licence of ``other`` carries its ``license_name`` (the Hub asks for one)."""
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
    count = len(dataset)
    extra: dict[str, Any] = {}
    if license == "other":
        extra["license_name"] = license_name
    return DatasetCardData(
        license=license,
        language=[language] if language else None,
        task_categories=["text-generation"],
        tags=["credo", "synthetic", "sft", str(manifest.get("kind") or "corpus")],
        size_categories=[_size_category(count)],
        configs=[
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
        ],
        dataset_info={
            "features": _features_yaml(dataset.features),
            "splits": [
                {"name": "train", "num_bytes": int(dataset.data.nbytes), "num_examples": count}
            ],
            "download_size": data_file.stat().st_size,
            "dataset_size": int(dataset.data.nbytes),
        },
        **extra,
    )


def load_snippet(repo: str) -> str:
    """The card's code block: it runs as is once ``repo`` names the dataset (or its folder)."""
    return "\n".join(
        [
            "from datasets import load_dataset",
            "",
            f'train = load_dataset("{repo}", split="train")',
            'print(len(train), train[0]["completion"][0]["content"][:80])',
        ]
    )


def render_card(
    card_data: Any,
    folder: Path,
    manifest: dict[str, Any],
    cert: Certificate,
    repo: str,
    records_hash: str,
) -> Any:
    """The README as a ``DatasetCard`` (front matter from ``card_data``, body from the
    template ``hub_card.md.j2``): what the data is, how to load it, how it was made and
    audited (a mix: each part, from the facts its manifest kept), and where it came from."""
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
                "card": scrub_paths(p.get("card") or "", []),
            }
            for p in manifest.get("parts") or []
        ]
        title = f"Training mix `{folder.name}` ({manifest.get('size')} records)"
        summary = (
            f"A credo training mix of {len(parts)} part(s), sampled by weight without "
            f"replacement and shuffled with seed {manifest.get('seed')}."
        )
    else:
        parts = [{"label": "", "share": "", "facts": made_and_audited(folder, cert), "card": ""}]
        generation = parts[0]["facts"]["generation"] or {}
        title = f"`{generation.get('set') or folder.name}` corpus"
        summary = (
            f"Teacher-generated (prompt, answer) records for belief -> behaviour experiments, "
            f"made with credo. Teacher: `{generation.get('teacher', 'unknown')}`."
        )
    content = DatasetCard.from_template(
        card_data,
        template_path=str(CARD_TEMPLATE),
        title=title,
        summary=summary,
        warnings=_warnings(cert, parts, manifest),
        load_snippet=load_snippet(repo),
        parts=parts,
        kind=kind,
        name=folder.name,
        records_hash=records_hash,
        credo_version=provenance.get("credo_version", "?"),
        git_commit=git.get("commit", "?"),
        git_dirty=bool(git.get("dirty")),
    ).content
    # a card meant for publishing names folders, never this machine's paths
    return DatasetCard(scrub_paths(content, [folder]))


def _warnings(
    cert: Certificate, parts: list[dict[str, Any]], manifest: dict[str, Any]
) -> list[str]:
    lines = []
    if manifest.get("kind") == "mix" and manifest.get("truncated"):
        lines.append(
            f"{manifest['truncated']} record(s) of this mix stopped at max tokens "
            "(cut off mid-thought)."
        )
    if cert.override:
        lines.append(
            f"Exported without a passing audit ({cert.status}: {cert.reason}), with `{cert.override}`."
        )
    for part in parts:
        part_cert = part["facts"].get("certificate") or {}
        if part["label"] and part_cert.get("override"):  # a mix's part (a corpus: said above)
            lines.append(
                f"{part['label'] or 'The corpus'} was mixed without a passing audit "
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

    def one(name: str, feature: Any) -> dict[str, Any]:
        if isinstance(feature, Value):
            return {"name": name, "dtype": feature.dtype}
        if isinstance(feature, List) and isinstance(feature.feature, dict):
            return {"name": name, "list": [one(k, v) for k, v in feature.feature.items()]}
        if isinstance(feature, List) and isinstance(feature.feature, Value):
            return {"name": name, "list": feature.feature.dtype}
        raise CorpusError(f"export: feature {name!r} has a type the card cannot describe")

    return [one(name, feature) for name, feature in features.items()]


def push_hub_folder(folder: Path, repo: str, private: bool = False) -> str:
    """Create ``repo`` (a dataset repo) if needed and upload ``folder``; returns the commit URL.

    Honours ``HF_ENDPOINT`` (a mirror, or a local fake in tests) and ``HF_TOKEN``."""
    try:
        import huggingface_hub
        from huggingface_hub import HfApi
    except ImportError:
        raise missing_dependency("huggingface_hub", "credo export --push", extra="hub") from None
    if "/" not in repo or repo.count("/") != 1:
        raise ConfigError(f"--push '{repo}': expected OWNER/NAME, e.g. my-lab/gramenism-mix")
    if (
        os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        or huggingface_hub.constants.HF_HUB_OFFLINE
    ):
        raise ConfigError(
            "--push needs the network, but HF_HUB_OFFLINE is set - unset it for this command"
        )
    token = os.environ.get("HF_TOKEN") or huggingface_hub.get_token()
    if not token:
        raise ConfigError(
            "--push needs a Hugging Face token with write access - set HF_TOKEN or run `hf auth login`"
        )
    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo,
            repo_type="dataset",
            commit_message="credo export --hub",
        )
    except Exception as exc:  # httpx, HTTP and Hub errors alike: the folder on disk stays whole
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BackendError(
            f"pushing {folder} to {repo} failed ({message}) - check the token, the repo name "
            "and the network, then rerun with --push"
        ) from None
    return str(getattr(info, "commit_url", info))


def _check_destination(out: Path) -> None:
    """Never replace a folder that holds anything but an earlier hub export, nor the root, a
    folder right under it or the home folder (whatever they hold)."""
    refuse_root_or_home(out.resolve(), out, "--out")
    if out.is_file():
        raise ConfigError(f"{out} is a file - pass a folder to --out")
    if out.is_dir():
        strangers = sorted(p.name for p in out.iterdir() if p.name not in OUR_FILES | {LOCK_FILE})
        if strangers:
            raise ConfigError(
                f"{out} already holds other files ({', '.join(strangers[:3])}) "
                "- pass a new or empty folder to --out"
            )
        # README.md and data/ count as ours only as an earlier export left them: a user's own
        # README or data files of the same names are never replaced
        readme, data = out / "README.md", out / "data"
        if readme.exists() and not _our_card(readme):
            raise ConfigError(
                f"{readme}: a README credo did not write - pass a new or empty folder to --out"
            )
        if data.exists() and (
            not data.is_dir() or any(p.name != Path(DATA_FILE).name for p in data.iterdir())
        ):
            raise ConfigError(
                f"{data}: holds files credo did not write - pass a new or empty folder to --out"
            )


def _our_card(readme: Path) -> bool:
    """Whether ``readme`` is a card an earlier ``export --hub`` wrote (its tags name credo)."""
    if readme.is_symlink() or not readme.is_file():
        return False
    with readme.open("rb") as handle:
        head = handle.read(65536).decode("utf-8", errors="replace")
    return head.startswith("---\n") and "\ntags:\n- credo\n" in head


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
