"""Where credo keeps state: ``$CREDO_HOME`` or a per-user cache folder, never the cwd."""

from __future__ import annotations

import os
from pathlib import Path

from credo.errors import ConfigError


def credo_home() -> Path:
    configured = os.environ.get("CREDO_HOME")
    if configured:
        home = Path(configured).expanduser()
        if home.exists() and not home.is_dir():
            raise ConfigError(
                f"CREDO_HOME={configured}: is a file, not a folder - point CREDO_HOME at a "
                "folder (or unset it to use ~/.cache/credo)"
            )
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        home = Path(base) / "credo"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = f"CREDO_HOME={configured}" if configured else str(home)
        raise ConfigError(
            f"{where}: cannot make the folder ({exc.strerror}) - point CREDO_HOME at a "
            "writable folder"
        ) from None
    return home
