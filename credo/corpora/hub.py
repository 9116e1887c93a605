"""A Hugging Face dataset folder made from a corpus or mix, and its upload to the Hub.

``write_hub_folder`` writes ``data/train-00000-of-00001.parquet`` (``id``, conversational
``prompt``/``completion``, ``meta`` as JSON text; see :mod:`credo.corpora.export`) and a
``README.md`` whose YAML front matter (license, task categories, configs, dataset_info) and
body come from the folder's ``manifest.json`` and ``CARD.md``. ``load_dataset(folder)`` and
the Hub's viewer read it as is. ``push_hub_folder`` uploads it with ``huggingface_hub``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from credo.corpora.export import hf_dataset
from credo.corpora.io import CARD_FILE, read_manifest, read_records, records_path, write_text
from credo.errors import BackendError, ConfigError, CorpusError, missing_dependency
from credo.hashing import file_hash

DATA_FILE = "data/train-00000-of-00001.parquet"
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
) -> HubFolder:
    """Write the dataset folder for the corpus or mix at ``corpus`` into ``out`` (replaced whole)."""
    source = records_path(corpus)
    records = list(read_records(source))
    if not records:
        raise CorpusError(f"{source}: no records to export - generate or mix some first")
    _check_destination(out)
    manifest = read_manifest(source.parent)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    dataset = hf_dataset(records)
    dataset.to_parquet(str(tmp / DATA_FILE))
    card = (
        (source.parent / CARD_FILE).read_text(encoding="utf-8")
        if (source.parent / CARD_FILE).is_file()
        else ""
    )
    # a card meant for publishing names folders, not this machine's paths
    card = card.replace(str(source.parent), source.parent.name).replace(str(Path.home()), "~")
    front = front_matter(
        dataset, tmp / DATA_FILE, manifest=manifest, license=license, language=language
    )
    readme = render_readme(
        front,
        card,
        manifest=manifest,
        name=source.parent.name,
        repo=repo or "OWNER/NAME",
        records_hash=file_hash(str(source)),
    )
    write_text(readme, tmp / "README.md")
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    return HubFolder(out, len(records), out / DATA_FILE, out / "README.md")


def front_matter(
    dataset: Any, data_file: Path, manifest: dict[str, Any], license: str, language: str | None
) -> dict[str, Any]:
    """The dataset card's YAML metadata, in the Hub's own field names."""
    count = len(dataset)
    meta: dict[str, Any] = {"license": license}
    if language:
        meta["language"] = [language]
    meta.update(
        {
            "task_categories": ["text-generation"],
            "tags": ["credo", "synthetic", "sft", str(manifest.get("kind") or "corpus")],
            "size_categories": [_size_category(count)],
            "configs": [
                {
                    "config_name": "default",
                    "data_files": [{"split": "train", "path": "data/train-*"}],
                }
            ],
            "dataset_info": {
                "features": dataset.features._to_yaml_list(),
                "splits": [
                    {"name": "train", "num_bytes": int(dataset.data.nbytes), "num_examples": count}
                ],
                "download_size": data_file.stat().st_size,
                "dataset_size": int(dataset.data.nbytes),
            },
        }
    )
    return meta


def render_readme(
    front: dict[str, Any],
    card: str,
    manifest: dict[str, Any],
    name: str,
    repo: str,
    records_hash: str,
) -> str:
    """YAML front matter, then the credo card, then how to load it and where it came from."""
    yaml_text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    body = card.strip() or f"# {name}"
    provenance = manifest.get("provenance") or {}
    git = provenance.get("git") or {}
    lines = [
        "---",
        yaml_text.rstrip(),
        "---",
        "",
        body,
        "",
        "## Using this dataset",
        "",
        "One row per record: `prompt` holds the chat messages before the reply, `completion` the "
        "assistant message, `meta` the record's metadata as JSON text. TRL's `SFTTrainer` (and "
        "Axolotl and Unsloth) train on the completion only with this layout:",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'train = load_dataset("{repo}", split="train")',
        "```",
        "",
        "## Provenance",
        "",
        f"- Made by credo {provenance.get('credo_version', '?')} (`credo export --hub`), git "
        f"`{git.get('commit', '?')}`{' (dirty)' if git.get('dirty') else ''}.",
        f"- Source: a credo {manifest.get('kind') or 'corpus'}; `records.jsonl` hash `{records_hash}`.",
        "",
    ]
    return "\n".join(lines)


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
    """Never replace a folder that holds anything but an earlier hub export."""
    if out.is_file():
        raise ConfigError(f"{out} is a file - pass a folder to --out")
    if out.is_dir():
        strangers = sorted(p.name for p in out.iterdir() if p.name not in OUR_FILES)
        if strangers:
            raise ConfigError(
                f"{out} already holds other files ({', '.join(strangers[:3])}) "
                "- pass a new or empty folder to --out"
            )


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
