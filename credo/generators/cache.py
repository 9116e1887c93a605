"""Per-request generation cache in SQLite under ``$CREDO_HOME/cache``.

The key (:func:`cache_key`) holds what changes the output - provider, model, endpoint
(scheme, host, port and path of a ``--base-url``: two servers with one model name are two
models), sampling params, rendered messages and the sample index - and nothing else: no
concurrency, timeout or retry settings, never a credential. Rows are validated on read: a
row of the wrong shape is a miss, not a crash. Only successful completions are stored;
content-filter stops and teacher refusals are not, so a rerun is a fresh attempt. Any
SQLite failure degrades to a cache miss with one warning: the cache never fails a run.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sqlite3
import threading
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args

from credo.corpora.io import dumps
from credo.generators.base import SamplingParams
from credo.hashing import content_hash
from credo.paths import credo_home
from credo.types import Completion, Message, StopReason

log = logging.getLogger("credo.generators.cache")
CACHE_FILE = "generations.sqlite"
_SCHEMA = "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, completion TEXT NOT NULL)"


def cache_key(
    provider: str,
    model: str,
    params: SamplingParams | dict[str, Any],
    messages: list[Message],
    sample_index: int,
    endpoint: str | None = None,
) -> str:
    """``params`` may be given already as JSON (the engine converts it once per run).

    Each message enters as (role, hash of its text): the same key as hashing the texts
    themselves, but the long persona + canon system prompt, shared by thousands of jobs,
    is hashed once instead of once per job.
    """
    if isinstance(params, SamplingParams):
        params = params.to_json()
    key = {
        "provider": provider,
        "model": model,
        "params": params,
        "messages": [[m.role, _text_hash(m.content)] for m in messages],
        "sample": sample_index,
    }
    if endpoint:  # the provider's default endpoint keeps the keys of earlier caches
        key["endpoint"] = endpoint
    return content_hash(key)


_STOP_REASONS = frozenset(get_args(StopReason))


def completion_from_row(text: str) -> Completion | None:
    """A cached row back as a Completion, or None when it is not one (a bad row is a miss)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) - _COMPLETION_FIELDS:
        return None
    usage = data.get("usage", {})
    valid = (
        isinstance(data.get("text"), str)
        and data.get("stop_reason", "stop") in _STOP_REASONS
        and isinstance(usage, dict)
        and set(usage) <= {"input_tokens", "output_tokens"}
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in usage.values())
        and isinstance(data.get("model", ""), str)
        and isinstance(data.get("teacher_refused", False), bool)
        and isinstance(data.get("refusal_reason"), (str, type(None)))
    )
    if not valid:
        return None
    return Completion.from_json(data)


_COMPLETION_FIELDS = frozenset(f.name for f in fields(Completion))


@functools.lru_cache(maxsize=4096)
def _text_hash(text: str) -> str:
    return content_hash(text)


def default_cache_path() -> Path:
    return credo_home() / "cache" / CACHE_FILE


class GenerationCache:
    """A small key -> Completion store; thread-safe, failure-tolerant."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._warned = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=5)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A cache may lose its last writes on power loss (they are asked again), so skip
            # the fsync per commit; an application crash loses nothing in WAL mode.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.commit()
        except (sqlite3.Error, OSError) as exc:
            self._degrade("open", exc)

    def get(self, key: str) -> Completion | None:
        if self._db is None:
            self.misses += 1
            return None
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT completion FROM generations WHERE key = ?", (key,)
                ).fetchone()
            found = completion_from_row(row[0]) if row else None
        except sqlite3.Error as exc:
            self._degrade("read", exc)
            found = None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def get_many(self, keys: list[str], chunk: int = 500) -> dict[str, Completion]:
        """Look many keys up in a few queries (a corpus replay reads thousands at once)."""
        found: dict[str, Completion] = {}
        if self._db is None:
            return found
        try:
            for start in range(0, len(keys), chunk):
                part = keys[start : start + chunk]
                marks = ",".join("?" * len(part))
                with self._lock:
                    rows = self._db.execute(
                        f"SELECT key, completion FROM generations WHERE key IN ({marks})", part
                    ).fetchall()
                for key, text in rows:
                    completion = completion_from_row(text)
                    if completion is not None:
                        found[key] = completion
        except sqlite3.Error as exc:
            self._degrade("read", exc)
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put(self, key: str, completion: Completion) -> None:
        if self._db is None or completion.blocked or completion.teacher_refused:
            return
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO generations VALUES (?, ?)",
                    (key, dumps(completion.to_json())),
                )
                self._db.commit()
        except (sqlite3.Error, ValueError) as exc:
            self._degrade("write", exc)

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def stats(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "hits": self.hits,
            "misses": self.misses,
            "enabled": self._db is not None,
        }

    def _degrade(self, action: str, exc: BaseException) -> None:
        if not self._warned:
            log.warning(
                "generation cache %s failed at %s (%s) - continuing without it",
                action,
                self.path,
                exc,
            )
            self._warned = True
        if action == "open":
            self._db = None
