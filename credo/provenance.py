"""What every manifest records about the run that made it: versions and git revision."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = (
    "credo",
    "openai",
    "anthropic",
    "transformers",
    "peft",
    "torch",
    "sentence-transformers",
    "datasketch",
    "jinja2",
    "pydantic",
)


def git_revision(start: Path | None = None) -> dict[str, Any]:
    """The commit of the credo checkout (and whether it is dirty), or None outside git."""
    where = start or Path(__file__).resolve().parent

    def git(*args: str) -> str:
        run = subprocess.run(
            ["git", *args], cwd=where, capture_output=True, text=True, timeout=5, check=True
        )
        return run.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": commit, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance() -> dict[str, Any]:
    return {
        "credo_version": package_versions().get("credo"),
        "git": git_revision(),
        "python": platform.python_version(),
        "packages": package_versions(),
    }
