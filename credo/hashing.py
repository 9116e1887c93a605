"""Identity by content: one helper makes every record id, cache key and dedup key.

A hash is blake2b over canonical JSON (sorted keys, compact separators, UTF-8), tagged with
its algorithm so that a future change of hash is visible in the data (``b2:…``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(value: Any, length: int = 16) -> str:
    """Hash any JSON-able value (a str is hashed as its JSON form) to ``b2:<hex>``."""
    digest = hashlib.blake2b(canonical_json(value).encode("utf-8"), digest_size=length)
    return "b2:" + digest.hexdigest()


def file_hash(path: str, length: int = 16) -> str:
    """Hash a file's bytes in chunks (for corpus and reference hashes)."""
    digest = hashlib.blake2b(digest_size=length)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "b2:" + digest.hexdigest()
