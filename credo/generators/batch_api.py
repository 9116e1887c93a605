"""The two providers' batch APIs behind one small interface, through the real SDKs.

OpenAI: upload a JSONL file (purpose ``batch``), create a batch on it, poll, download the
output *and* the error file. Anthropic: create a message batch with the requests inline,
poll until ``ended``, stream the results. Both answer per ``custom_id``, out of order.

Caps (``max_requests``, ``max_bytes``) are the providers' documented limits; a chunk is
filled to at most 95% of the byte cap. ``CREDO_BATCH_MAX_REQUESTS`` / ``CREDO_BATCH_MAX_BYTES``
lower them (tests use tiny caps to get many chunks).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from credo.errors import BackendError, ConfigError, CredoError
from credo.redact import scrub

BYTE_FILL = 0.95


@dataclass(frozen=True)
class BatchStatus:
    state: str  # the provider's own word: validating, in_progress, ended, completed, ...
    ended: bool  # results (or a validation failure) are final
    counts: dict[str, int] = field(default_factory=dict)
    #: Validation failures: (0-based line or None for the whole batch, reason).
    invalid: list[tuple[int | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class BatchResult:
    custom_id: str
    kind: str  # ok | errored | expired | canceled
    body: dict[str, Any] | None = None  # the response body (ok) or the error (errored)
    transient: bool = True  # for errored: worth resubmitting (5xx, overloaded)
    reason: str = ""


class BatchRejected(Exception):
    """The provider refused a batch at submission; ``line`` is 0-based, or None."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


class BatchAPI(Protocol):
    provider: str
    max_requests: int
    max_bytes: int

    def encode(self, custom_id: str, body: dict[str, Any]) -> bytes: ...
    def submit(self, lines: list[bytes], chunk: str) -> str: ...
    def status(self, batch_id: str) -> BatchStatus | None: ...  # None: the provider forgot it
    def results(self, batch_id: str) -> Iterator[BatchResult]: ...
    def cancel(self, batch_id: str) -> None: ...


def _caps(default_requests: int, default_bytes: int) -> tuple[int, int]:
    values = []
    for name, default in (("REQUESTS", default_requests), ("BYTES", default_bytes)):
        raw = os.environ.get(f"CREDO_BATCH_MAX_{name}")
        try:
            values.append(min(default, int(raw)) if raw else default)
        except ValueError as exc:
            raise ConfigError(f"CREDO_BATCH_MAX_{name}={raw!r}: not a whole number") from exc
    return values[0], values[1]


def _not_found(exc: BaseException) -> bool:
    return getattr(exc, "status_code", None) == 404


class OpenAIBatchAPI:
    provider = "openai"

    def __init__(self, backend: Any) -> None:
        self.client = backend.sync_client()
        self.url = backend.batch_url
        self.max_requests, self.max_bytes = _caps(50_000, 200 * 1024 * 1024)
        self._sdk = backend._sdk

    def encode(self, custom_id: str, body: dict[str, Any]) -> bytes:
        return (
            json.dumps(
                {"custom_id": custom_id, "method": "POST", "url": self.url, "body": body},
                ensure_ascii=False,
            )
            + "\n"
        ).encode("utf-8")

    def submit(self, lines: list[bytes], chunk: str) -> str:
        upload = self.client.files.create(file=(f"{chunk}.jsonl", b"".join(lines)), purpose="batch")
        batch = self.client.batches.create(
            input_file_id=upload.id,
            endpoint=self.url,
            completion_window="24h",
            metadata={"credo_chunk": chunk},
        )
        return batch.id

    def status(self, batch_id: str) -> BatchStatus | None:
        try:
            batch = self.client.batches.retrieve(batch_id)
        except self._sdk.NotFoundError:
            return None
        counts = batch.request_counts
        invalid = [
            ((e.line - 1) if e.line else None, f"{e.code}: {e.message}")
            for e in (batch.errors.data if batch.errors and batch.errors.data else [])
        ]
        if batch.status == "failed" and not invalid:
            invalid = [(None, "the batch failed and the provider gave no reason")]
        return BatchStatus(
            batch.status,
            batch.status in ("completed", "failed", "expired", "cancelled"),
            {"total": counts.total, "completed": counts.completed, "failed": counts.failed}
            if counts
            else {},
            invalid,
        )

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        batch = self.client.batches.retrieve(batch_id)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            for line in self.client.files.content(file_id).text.splitlines():
                if line.strip():
                    yield self._result(json.loads(line))

    def _result(self, item: dict[str, Any]) -> BatchResult:
        custom_id = str(item.get("custom_id"))
        response, error = item.get("response") or {}, item.get("error") or {}
        if response.get("status_code") == 200:
            return BatchResult(custom_id, "ok", response.get("body"))
        code = str(error.get("code") or "")
        if code == "batch_expired":
            return BatchResult(custom_id, "expired", reason=code)
        if code == "batch_cancelled":
            return BatchResult(custom_id, "canceled", reason=code)
        status = response.get("status_code") or 0
        body = response.get("body") or error
        message = json.dumps(body)[:200]
        return BatchResult(
            custom_id,
            "errored",
            body,
            transient=status in (0, 408, 429) or status >= 500,
            reason=f"HTTP {status}: {message}",
        )

    def cancel(self, batch_id: str) -> None:
        with contextlib.suppress(self._sdk.NotFoundError):
            self.client.batches.cancel(batch_id)


class AnthropicBatchAPI:
    provider = "anthropic"

    def __init__(self, backend: Any) -> None:
        self.client = backend.sync_client()
        self.max_requests, self.max_bytes = _caps(100_000, 256 * 1024 * 1024)
        self._sdk = backend._sdk

    def encode(self, custom_id: str, body: dict[str, Any]) -> bytes:
        return json.dumps({"custom_id": custom_id, "params": body}, ensure_ascii=False).encode(
            "utf-8"
        )

    def submit(self, lines: list[bytes], chunk: str) -> str:
        # The requests are already JSON: send them as one body instead of re-encoding.
        payload = b'{"requests": [' + b",".join(lines) + b"]}"
        try:
            batch = self.client.post(
                "/v1/messages/batches",
                body=json.loads(payload),
                cast_to=self._sdk.types.messages.MessageBatch,
            )
        except self._sdk.BadRequestError as exc:
            message = str(getattr(exc, "message", exc))
            found = re.search(r"requests[.\[](\d+)", message)
            raise BatchRejected(int(found.group(1)) if found else None, message) from exc
        return batch.id

    def status(self, batch_id: str) -> BatchStatus | None:
        try:
            batch = self.client.messages.batches.retrieve(batch_id)
        except self._sdk.NotFoundError:
            return None
        return BatchStatus(
            batch.processing_status,
            batch.processing_status == "ended",
            batch.request_counts.model_dump(),
        )

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        for item in self.client.messages.batches.results(batch_id):
            result = item.result
            if result.type == "succeeded":
                yield BatchResult(item.custom_id, "ok", result.message.model_dump())
            elif result.type == "errored":
                error = result.error.model_dump()
                kind = str((error.get("error") or {}).get("type", ""))
                yield BatchResult(
                    item.custom_id,
                    "errored",
                    error,
                    transient=kind in ("api_error", "overloaded_error", "rate_limit_error"),
                    reason=f"{kind}: {(error.get('error') or {}).get('message')}",
                )
            else:  # expired / canceled
                yield BatchResult(item.custom_id, result.type, reason=result.type)

    def cancel(self, batch_id: str) -> None:
        with contextlib.suppress(self._sdk.NotFoundError):
            self.client.messages.batches.cancel(batch_id)


def batch_api_for(backend: Any) -> BatchAPI:
    """The batch API the backend's provider declares (see its ``BACKEND``), its SDK errors
    (no connection, a 401, a 500) turned into one-line BackendErrors."""
    from credo.generators.registry import batch_api_for as declared

    return _Guarded(declared(backend))


class _Guarded:
    """A batch API whose calls raise :class:`BackendError` (scrubbed of credentials) instead of
    an SDK's own exception: the state file is kept, and a rerun resumes."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._api, name)
        if name not in ("submit", "status", "results", "cancel"):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = value(*args, **kwargs)
                return _guarded_iter(result) if name == "results" else result
            except (CredoError, BatchRejected):  # the runner words these itself
                raise
            except Exception as exc:
                raise _failed(name, exc) from None

        return call


def _guarded_iter(items: Iterator[BatchResult]) -> Iterator[BatchResult]:
    try:
        yield from items
    except (CredoError, BatchRejected):
        raise
    except Exception as exc:
        raise _failed("results", exc) from None


def _failed(call: str, exc: Exception) -> BackendError:
    reason = " ".join(str(exc).split())[:200]
    return BackendError(
        scrub(
            f"batch {call}: {type(exc).__name__}: {reason} - check --base-url, the key and the network"
        )
    )


def chunk_lines(lines: list[bytes], max_requests: int, max_bytes: int) -> list[list[int]]:
    """Split line indices into chunks under both caps (bytes filled to 95% at most).

    A single line over the byte cap cannot be split: it is returned alone and the caller
    reports it.
    """
    budget = int(max_bytes * BYTE_FILL) - 64  # room for the envelope of an inline batch
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, line in enumerate(lines):
        cost = len(line) + 1
        if current and (len(current) >= max_requests or size + cost > budget):
            chunks.append(current)
            current, size = [], 0
        current.append(index)
        size += cost
    if current:
        chunks.append(current)
    return chunks
