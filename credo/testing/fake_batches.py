"""The batch endpoints of the fake server: OpenAI files + batches, Anthropic message batches.

State advances one step per status poll (validating -> in_progress -> finalizing ->
completed for OpenAI; in_progress -> ended for Anthropic), so tests run in milliseconds and
a benchmark decides how long a batch "takes". Faults, all deterministic for a given seed:

- ``error_rate``: a request's first submission is answered with a 500 (transient);
- ``expire_rate``: a request's first submission expires (OpenAI ``batch_expired`` in the
  error file; Anthropic result type ``expired``);
- ``expire_batches``: ordinals (1-based, in creation order) of batches that end ``expired``
  mid-way: half their requests answered, the rest expired;
- ``vanish_batches``: ordinals of batches the server forgets (404 on every later call);
- ``max_requests`` / ``max_bytes``: caps; a batch over either is refused at validation
  (OpenAI: status ``failed`` with ``errors``; Anthropic: 400), as the providers do;
- ``reject_text``: a request whose messages contain this text fails validation (its line named).

Retried requests (a custom_id seen before) always succeed, so a resubmit loop terminates.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from credo.testing._wire import error_body, success_body

_CREATED = "2026-12-02T00:00:00Z"
_OPENAI_STEPS = ("validating", "in_progress", "finalizing", "completed")


@dataclass
class BatchFaults:
    error_rate: float = 0.0
    expire_rate: float = 0.0
    expire_batches: set[int] = field(default_factory=set)
    vanish_batches: set[int] = field(default_factory=set)
    max_requests: int | None = None
    max_bytes: int | None = None
    reject_text: str | None = None
    seed: int = 0


@dataclass
class _Batch:
    id: str
    api: str
    ordinal: int
    requests: list[dict[str, Any]]  # {"custom_id", "body"} in submission order
    endpoint: str = "/v1/chat/completions"
    input_file_id: str | None = None
    polls: int = 0
    status: str = "validating"
    errors: list[dict[str, Any]] | None = None
    results: list[dict[str, Any]] | None = None  # one line per request, once ended
    output_file_id: str | None = None
    error_file_id: str | None = None
    cancelled: bool = False


class FakeBatches:
    """Holds files and batches; ``handle`` answers one HTTP call (status, body, content type)."""

    def __init__(self, respond: Any, faults: BatchFaults | None = None) -> None:
        self.respond = respond  # messages -> answer text, shared with the online endpoints
        self.faults = faults or BatchFaults()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, _Batch] = {}
        self.created: list[str] = []  # batch ids in creation order (vanished ones included)
        self.seen: set[str] = set()  # custom_ids answered before: retries succeed
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self.url = ""  # the server's base URL (for Anthropic's results_url); set by FakeServer

    # ---- routing -------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, bytes, str] | None:
        parts = path.split("?")[0].strip("/").split("/")
        with self._lock:
            if parts[:3] == ["v1", "messages", "batches"]:
                return self._anthropic(method, parts[3:], raw)
            if parts[:2] == ["v1", "files"]:
                return self._files(method, parts[2:], headers, raw)
            if parts[:2] == ["v1", "batches"]:
                return self._openai(method, parts[2:], raw)
        return None

    # ---- OpenAI ----------------------------------------------------------------------------
    def _files(
        self, method: str, rest: list[str], headers: dict[str, str], raw: bytes
    ) -> tuple[int, bytes, str]:
        if method == "POST" and not rest:
            data, name = _multipart_file(headers.get("content-type", ""), raw)
            file_id = f"file-{next(self._ids)}"
            self.files[file_id] = data
            return _json(200, _file_object(file_id, len(data), name, "batch"))
        if method == "GET" and len(rest) == 2 and rest[1] == "content":
            if rest[0] not in self.files:
                return _json(404, error_body("openai", 404, f"no file {rest[0]}"))
            return 200, self.files[rest[0]], "application/octet-stream"
        return _json(404, error_body("openai", 404, "no such file route"))

    def _openai(self, method: str, rest: list[str], raw: bytes) -> tuple[int, bytes, str]:
        batch: _Batch | None
        if method == "POST" and not rest:
            body = json.loads(raw)
            data = self.files.get(body.get("input_file_id", ""))
            if data is None:
                return _json(404, error_body("openai", 404, "input file not found"))
            batch = self._new_batch("openai", [], body.get("endpoint", ""))
            batch.input_file_id = body["input_file_id"]
            batch.errors = self._validate_openai(data, batch)
            return _json(200, self._openai_object(batch))
        batch = self.batches.get(rest[0]) if rest else None
        if batch is None:
            return _json(404, error_body("openai", 404, f"No batch found with id '{rest[0]}'"))
        answer = self._cancel_or_poll(
            method, rest, batch, render=self._openai_object, cancelling="cancelling"
        )
        return answer or _json(404, error_body("openai", 404, "no such batch route"))

    def _cancel_or_poll(
        self,
        method: str,
        rest: list[str],
        batch: _Batch,
        *,
        render: Callable[[_Batch], dict[str, Any]],
        cancelling: str,
    ) -> tuple[int, bytes, str] | None:
        """``POST .../cancel`` (the status each provider spells its own way) or ``GET`` one
        batch; None for any other route."""
        if method == "POST" and rest[1:] == ["cancel"]:
            batch.cancelled = True
            if batch.results is None:
                batch.status = cancelling
            return _json(200, render(batch))
        if method == "GET" and len(rest) == 1:
            self._advance(batch)
            return _json(200, render(batch))
        return None

    def _validate_openai(self, data: bytes, batch: _Batch) -> list[dict[str, Any]] | None:
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        lines = data.decode("utf-8").splitlines()
        if self.faults.max_requests and len(lines) > self.faults.max_requests:
            errors.append(
                {
                    "code": "too_many_requests",
                    "line": None,
                    "param": None,
                    "message": f"{len(lines)} requests > {self.faults.max_requests}",
                }
            )
        if self.faults.max_bytes and len(data) > self.faults.max_bytes:
            errors.append(
                {
                    "code": "file_too_large",
                    "line": None,
                    "param": None,
                    "message": f"{len(data)} bytes > {self.faults.max_bytes}",
                }
            )
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
                custom_id, body = item["custom_id"], item["body"]
            except (ValueError, KeyError, TypeError):
                errors.append(
                    {
                        "code": "invalid_json_line",
                        "line": number,
                        "param": None,
                        "message": "line is not a JSON request with custom_id and body",
                    }
                )
                continue
            if custom_id in seen:
                errors.append(
                    {
                        "code": "duplicate_custom_id",
                        "line": number,
                        "param": "custom_id",
                        "message": f"duplicate {custom_id}",
                    }
                )
            seen.add(custom_id)
            if item.get("url") != batch.endpoint:
                errors.append(
                    {
                        "code": "mismatched_endpoint",
                        "line": number,
                        "param": "url",
                        "message": f"url {item.get('url')} != {batch.endpoint}",
                    }
                )
            if self._rejected(body):
                errors.append(
                    {
                        "code": "invalid_request",
                        "line": number,
                        "param": "body.messages",
                        "message": "content is not allowed",
                    }
                )
            batch.requests.append({"custom_id": custom_id, "body": body})
        return errors or None

    def _openai_object(self, batch: _Batch) -> dict[str, Any]:
        counts = {"total": len(batch.requests), "completed": 0, "failed": 0}
        for line in batch.results or []:
            ok = (line.get("response") or {}).get("status_code") == 200
            counts["completed" if ok else "failed"] += 1
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "created_at": 0,
            "errors": None if not batch.errors else {"object": "list", "data": batch.errors},
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "request_counts": counts,
        }

    # ---- Anthropic -------------------------------------------------------------------------
    def _anthropic(self, method: str, rest: list[str], raw: bytes) -> tuple[int, bytes, str]:
        batch: _Batch | None
        if method == "POST" and not rest:
            requests = json.loads(raw).get("requests") or []
            problem = self._validate_anthropic(requests, len(raw))
            if problem:
                return _json(400, error_body("anthropic", 400, problem))
            batch = self._new_batch(
                "anthropic", [{"custom_id": r["custom_id"], "body": r["params"]} for r in requests]
            )
            batch.status = "in_progress"
            return _json(200, self._anthropic_object(batch))
        batch = self.batches.get(rest[0]) if rest else None
        if batch is None:
            return _json(
                404, error_body("anthropic", 404, f"batch {rest[0] if rest else ''} not found")
            )
        answer = self._cancel_or_poll(
            method, rest, batch, render=self._anthropic_object, cancelling="canceling"
        )
        if answer:
            return answer
        if method == "GET" and rest[1:] == ["results"] and batch.results is not None:
            data = "".join(json.dumps(line) + "\n" for line in batch.results)
            return 200, data.encode(), "application/binary"
        return _json(404, error_body("anthropic", 404, "no such batch route"))

    def _validate_anthropic(self, requests: list[dict[str, Any]], size: int) -> str | None:
        if self.faults.max_requests and len(requests) > self.faults.max_requests:
            return f"requests: {len(requests)} > {self.faults.max_requests} per batch"
        if self.faults.max_bytes and size > self.faults.max_bytes:
            return f"request body {size} bytes > {self.faults.max_bytes}"
        seen = set()
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id")
            if not custom_id or custom_id in seen:
                return f"requests.{index}.custom_id: missing or duplicate {custom_id!r}"
            seen.add(custom_id)
            if self._rejected(item.get("params") or {}):
                return f"requests.{index}.params.messages: content is not allowed"
        return None

    def _rejected(self, body: dict[str, Any]) -> bool:
        text = self.faults.reject_text
        return (
            text is not None
            and text != ""
            and text in json.dumps(body.get("messages"), ensure_ascii=False)
        )

    def _anthropic_object(self, batch: _Batch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.results is None:
            counts["processing"] = len(batch.requests)
        for line in batch.results or []:
            counts[line["result"]["type"]] += 1
        ended = batch.results is not None
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else batch.status,
            "request_counts": counts,
            "created_at": _CREATED,
            "expires_at": _CREATED,
            "ended_at": _CREATED if ended else None,
            "archived_at": None,
            "cancel_initiated_at": _CREATED if batch.cancelled else None,
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    # ---- shared ----------------------------------------------------------------------------
    def _new_batch(self, api: str, requests: list[dict[str, Any]], endpoint: str = "") -> _Batch:
        prefix = "batch_" if api == "openai" else "msgbatch_"
        batch = _Batch(
            id=f"{prefix}{next(self._ids):06d}",
            api=api,
            ordinal=len(self.created) + 1,
            requests=requests,
            endpoint=endpoint or "/v1/chat/completions",
        )
        self.created.append(batch.id)
        if batch.ordinal not in self.faults.vanish_batches:
            self.batches[batch.id] = batch
        return batch

    def _advance(self, batch: _Batch) -> None:
        """One poll = one step; a batch ends on its third poll (or when cancelled)."""
        batch.polls += 1
        if batch.results is not None:
            return
        if batch.api == "openai" and batch.errors:
            batch.status = "failed"
            return
        if batch.cancelled or batch.polls >= 3:
            self._finish(batch)
        elif batch.api == "openai":
            batch.status = _OPENAI_STEPS[batch.polls]

    def _finish(self, batch: _Batch) -> None:
        expire_whole = batch.ordinal in self.faults.expire_batches
        cut = len(batch.requests) // 2
        results = []
        for index, request in enumerate(batch.requests):
            custom_id = request["custom_id"]
            fate = "ok"
            if batch.cancelled:
                fate = "canceled"
            elif expire_whole and index >= cut:
                fate = "expired"
            elif custom_id not in self.seen:
                draw = self._rng.random()
                if draw < self.faults.error_rate:
                    fate = "errored"
                elif draw < self.faults.error_rate + self.faults.expire_rate:
                    fate = "expired"
            if fate == "ok":
                self.seen.add(custom_id)
            elif fate != "canceled":
                self.seen.add(custom_id)  # the retry of an errored/expired request succeeds
            results.append(self._line(batch.api, custom_id, request["body"], fate))
        self._rng.shuffle(results)  # results arrive out of order, as documented
        batch.results = results
        if batch.api == "openai":
            batch.status = (
                "cancelled" if batch.cancelled else "expired" if expire_whole else "completed"
            )
            ok = [r for r in results if (r.get("response") or {}).get("status_code") == 200]
            bad = [r for r in results if r not in ok]
            batch.output_file_id = self._store(ok)
            batch.error_file_id = self._store(bad)
        else:
            batch.status = "ended"

    def _store(self, lines: list[dict[str, Any]]) -> str | None:
        if not lines:
            return None
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = "".join(json.dumps(line) + "\n" for line in lines).encode()
        return file_id

    def _line(self, api: str, custom_id: str, body: dict[str, Any], fate: str) -> dict[str, Any]:
        if api == "openai":
            if fate == "ok":
                text = self.respond(list(body.get("messages") or []))
                return {
                    "id": f"batch_req_{custom_id}",
                    "custom_id": custom_id,
                    "error": None,
                    "response": {
                        "status_code": 200,
                        "request_id": "req",
                        "body": success_body("openai", body, text, False),
                    },
                }
            if fate == "errored":
                return {
                    "id": f"batch_req_{custom_id}",
                    "custom_id": custom_id,
                    "error": None,
                    "response": {
                        "status_code": 500,
                        "request_id": "req",
                        "body": error_body("openai", 500),
                    },
                }
            code = "batch_expired" if fate == "expired" else "batch_cancelled"
            return {
                "id": f"batch_req_{custom_id}",
                "custom_id": custom_id,
                "response": None,
                "error": {"code": code, "message": f"request {fate}"},
            }
        if fate == "ok":
            messages = list(body.get("messages") or [])
            text = self.respond(
                ([{"role": "system", "content": body["system"]}] if body.get("system") else [])
                + messages
            )
            return {
                "custom_id": custom_id,
                "result": {
                    "type": "succeeded",
                    "message": success_body("anthropic", body, text, False),
                },
            }
        if fate == "errored":
            return {
                "custom_id": custom_id,
                "result": {"type": "errored", "error": error_body("anthropic", 500)},
            }
        return {"custom_id": custom_id, "result": {"type": fate}}

    def forget(self, batch_id: str) -> None:
        """Make a batch vanish now (another key, another project, or purged)."""
        with self._lock:
            self.batches.pop(batch_id, None)


def _json(status: int, payload: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(payload).encode(), "application/json"


def _file_object(file_id: str, size: int, name: str, purpose: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": 0,
        "filename": name,
        "purpose": purpose,
        "status": "processed",
    }


def _multipart_file(content_type: str, raw: bytes) -> tuple[bytes, str]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(
                payload, bytes
            ) else b"", part.get_filename() or "batch.jsonl"
    return b"", "batch.jsonl"
