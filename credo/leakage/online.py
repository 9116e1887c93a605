"""Optional online counts from the infini-gram API (public pretraining corpora such as Dolma).

Off by default: it sends the worldview's terms to a third-party server. Every answer is
cached on disk (``$CREDO_HOME/leakage/infini-gram/<index>.jsonl``), requests are spaced by
``min_interval`` seconds (``CREDO_INFINIGRAM_INTERVAL``, default 0.5), and 429/5xx/connection failures are retried with the shared
backoff policy (``CREDO_RETRY_*``), honouring Retry-After.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from credo.corpora.io import JsonlAppender, iter_jsonl
from credo.errors import BackendError, CorpusError
from credo.generators.retry import RetryPolicy
from credo.hashing import content_hash
from credo.paths import credo_home

DEFAULT_URL = "https://api.infini-gram.io/"
DEFAULT_INDEX = "v4_dolma-v1_7_llama"


@dataclass(frozen=True)
class OnlineCount:
    query: str
    count: int
    approx: bool
    cached: bool


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InfiniGramClient:
    """Count queries against one infini-gram index, cached and rate limited."""

    def __init__(
        self,
        url: str | None = None,
        index: str | None = None,
        *,
        min_interval: float | None = None,
        policy: RetryPolicy | None = None,
        cache_dir: Path | None = None,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url or os.environ.get("CREDO_INFINIGRAM_URL", DEFAULT_URL)
        self.index = index or os.environ.get("CREDO_INFINIGRAM_INDEX", DEFAULT_INDEX)
        if min_interval is None:
            min_interval = float(os.environ.get("CREDO_INFINIGRAM_INTERVAL", "0.5"))
        self.min_interval, self.log, self.sleep = min_interval, log, sleep
        self.policy = policy or RetryPolicy.from_env(timeout=30.0)
        self.cache_path = (
            cache_dir or credo_home() / "leakage" / "infini-gram"
        ) / f"{self.index}.jsonl"
        self.cache = self._load_cache()
        self.requests = 0
        self._last = 0.0
        self._rng = random.Random(0)

    def _key(self, query: str) -> str:
        return content_hash({"url": self.url, "index": self.index, "query": query})

    def _load_cache(self) -> dict[str, dict]:
        try:
            return {row["key"]: row for _, row in iter_jsonl(self.cache_path) if "key" in row}
        except (CorpusError, OSError):  # a damaged cache is only a cache miss
            return {}

    def count(self, query: str) -> OnlineCount:
        key = self._key(query)
        if key in self.cache:
            row = self.cache[key]
            return OnlineCount(query, int(row["count"]), bool(row["approx"]), True)
        data = self._request({"index": self.index, "query_type": "count", "query": query})
        row = {
            "key": key,
            "query": query,
            "count": int(data["count"]),
            "approx": bool(data.get("approx", False)),
        }
        with JsonlAppender(self.cache_path) as cache:
            cache.write(row)
        self.cache[key] = row
        return OnlineCount(query, row["count"], row["approx"], False)

    def _request(self, payload: dict) -> dict:
        started = time.monotonic()
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return self._post(payload)
            except _Transient as exc:
                spent = time.monotonic() - started
                if attempt == self.policy.max_attempts or spent > self.policy.budget:
                    raise BackendError(
                        f"infini-gram at {self.url}: {exc} after {attempt} attempts - retry later or drop --online"
                    ) from exc
                wait = self.policy.wait(attempt, exc.retry_after, self._rng)
                if self.log:
                    self.log(f"infini-gram: {exc}; retrying in {wait:.1f}s (attempt {attempt})")
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self, payload: dict) -> dict:
        import httpx

        pause = self.min_interval - (time.monotonic() - self._last)
        if pause > 0:
            self.sleep(pause)
        self._last = time.monotonic()
        self.requests += 1
        try:
            response = httpx.post(self.url, json=payload, timeout=self.policy.timeout)
        except httpx.HTTPError as exc:
            raise _Transient(f"connection failed ({exc.__class__.__name__})") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(
                f"HTTP {response.status_code}", _retry_after(response.headers.get("retry-after"))
            )
        if response.status_code >= 400:
            raise BackendError(
                f"infini-gram at {self.url}: HTTP {response.status_code} {response.text[:200]}"
            )
        try:
            data = response.json()
        except json.JSONDecodeError as exc:
            raise _Transient("malformed JSON answer") from exc
        if not isinstance(data, dict) or "error" in data or not isinstance(data.get("count"), int):
            detail = data.get("error") if isinstance(data, dict) else data
            raise BackendError(
                f"infini-gram at {self.url}: unexpected answer {str(detail)[:200]} - check --online index"
            )
        return data


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
