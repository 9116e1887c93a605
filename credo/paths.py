"""Where credo keeps state: ``$CREDO_HOME`` or a per-user cache folder, never the cwd."""

from __future__ import annotations

import os
from pathlib import Path


def credo_home() -> Path:
    configured = os.environ.get("CREDO_HOME")
    if configured:
        home = Path(configured).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        home = Path(base) / "credo"
    home.mkdir(parents=True, exist_ok=True)
    return home
