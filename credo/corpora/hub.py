"""A Hugging Face dataset folder made from a corpus or mix, and its upload to the Hub.

``write_hub_folder`` writes ``data/train-00000-of-00001.parquet`` (``id``, conversational
``prompt``/``completion``, ``meta`` as JSON text; see :mod:`credo.corpora.export`) and a
``README.md``: the folder's card (:mod:`credo.corpora.card`, the same builder as its local
``CARD.md``) with the data files and features declared and a Hub load snippet. ``load_dataset(folder)`` and
the Hub's viewer read it as is. ``push_hub_folder`` uploads it with ``huggingface_hub``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.card import build_card, front_matter, is_credo_card
from credo.corpora.certificate import Certificate, require_certificate
from credo.corpora.export import hf_dataset, refuse_forged_turns
from credo.corpora.io import read_manifest, read_records, records_path
from credo.errors import BackendError, ConfigError, CorpusError, missing_dependency
from credo.hashing import file_hash
from credo.runs import LOCK_FILE, building_dir, claim_output, refuse_root_or_home, replace_dir

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
        manifest,
        len(dataset),
        license=license,
        language=language,
        license_name=license_name,
        dataset=dataset,
        data_file=tmp / DATA_FILE,
    )
    card = build_card(
        card_data,
        source.parent,
        manifest=manifest,
        cert=cert,
        repo=repo or "OWNER/NAME",
        records_hash=file_hash(str(source)),
    )
    card.save(str(tmp / "README.md"))


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
        if readme.exists() and (readme.is_symlink() or not is_credo_card(readme)):
            raise ConfigError(
                f"{readme}: a README credo did not write - pass a new or empty folder to --out"
            )
        if data.exists() and (
            not data.is_dir() or any(p.name != Path(DATA_FILE).name for p in data.iterdir())
        ):
            raise ConfigError(
                f"{data}: holds files credo did not write - pass a new or empty folder to --out"
            )
