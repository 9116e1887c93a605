"""A local fake of the OpenAI and Anthropic HTTP APIs, with latency and injected faults.

It speaks ``POST /v1/chat/completions`` (OpenAI) and ``POST /v1/messages`` (Anthropic) on
127.0.0.1, so the real SDKs can be tested end to end with no network. Faults are queued and
consumed one per request, in order; ``fail_always`` applies one to every request::

    with FakeServer(latency=0.01) as server:
        server.enqueue("429", "500", "malformed")
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test")

Faults: ``429`` (with Retry-After), ``500``, ``503``, ``529`` (overloaded), ``400``, ``401``,
``malformed`` (200 with a body that is not JSON), ``empty`` (200 with JSON lacking the
answer), ``reset`` (TCP reset, no response), ``close`` (connection closed, no response),
``slow`` (waits ``slow_seconds`` first: a client timeout), ``content_filter`` (a provider
block: OpenAI ``finish_reason`` / Anthropic ``stop_reason: refusal``), ``content_policy_400``
(OpenAI's block as a 400) and ``refusal`` (a normal answer that declines).

Batch endpoints (OpenAI files + batches, Anthropic message batches) live in
:mod:`credo.testing.fake_batches` (faults: ``FakeServer(batch_faults=BatchFaults(...))``);
``rpm``/``tpm`` enforce rate limits with the providers' headers (:mod:`credo.testing.fake_limits`).

Run ``python -m credo.testing --latency 0.1`` (or ``-m credo.testing.fake_server``) to serve one for demos and
benchmarks; it prints its URL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from credo.testing._http import KeepAliveHandler
from credo.testing._wire import error_body, prompt_tokens, success_body
from credo.testing.fake_batches import BatchFaults, FakeBatches
from credo.testing.fake_limits import RateLimits

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
FAULTS = (
    "429",
    "500",
    "503",
    "529",
    "400",
    "401",
    "malformed",
    "empty",
    "reset",
    "close",
    "slow",
    "content_filter",
    "content_policy_400",
    "refusal",
)


def echo_answer(messages: list[dict[str, Any]]) -> str:
    user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    if isinstance(user, list):  # anthropic content blocks
        user = " ".join(str(b.get("text", "")) for b in user if isinstance(b, dict))
    return f"A faithful answer to: {user}"


@dataclass(frozen=True)
class RecordedRequest:
    api: str  # "openai" or "anthropic"
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    fault: str | None


class FakeServer:
    """The fake API server; a context manager that runs it in a background thread."""

    def __init__(
        self,
        latency: float = 0.0,
        *,
        retry_after: float | str = 0,
        slow_seconds: float = 5.0,
        respond: Callable[[list[dict]], str] | None = None,
        port: int = 0,
        record: bool = True,
        rpm: float | None = None,
        tpm: float | None = None,
        burst: float = 1.0,
        limit_headers: bool = True,
        limit_clock: Callable[[], float] = time.monotonic,
        batch_faults: BatchFaults | None = None,
    ) -> None:
        self.latency = latency
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.respond = respond or echo_answer
        self.fail_always: str | None = None
        self.record = record
        self.requests: list[RecordedRequest] = []
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self.limits = (
            RateLimits(rpm, tpm, burst=burst, headers=limit_headers, clock=limit_clock)
            if (rpm or tpm)
            else None
        )
        self.batches = FakeBatches(lambda messages: self.respond(messages), batch_faults)
        self._httpd = _Server(("127.0.0.1", port), _handler_for(self))
        self.batches.url = self.url
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"  # an IPv4 server: host is a str

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def enqueue(self, *faults: str) -> FakeServer:
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.extend(faults)
        return self

    def next_fault(self) -> str | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
        return self.fail_always

    def note(self, request: RecordedRequest) -> None:
        if self.record:
            with self._lock:
                self.requests.append(request)

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # listen backlog: a C=256 client opens its whole pool at once
    daemon_threads = True


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(KeepAliveHandler):
        def setup(self) -> None:
            super().setup()
            self._quick_ack()

        def _quick_ack(self) -> None:
            # Clients also send headers and body as two writes; ACK at once so their Nagle
            # does not hold the body back (Linux clears QUICKACK after each read).
            if hasattr(socket, "TCP_QUICKACK"):
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

        def do_GET(self) -> None:
            self._batch_route("GET", b"")

        def do_POST(self) -> None:
            api = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}.get(self.path)
            length = int(self.headers.get("content-length") or 0)
            self._quick_ack()
            raw = self.rfile.read(length)
            self._quick_ack()
            if api is None:
                return self._batch_route("POST", raw)
            try:
                body = json.loads(raw)
            except ValueError:
                return self._send(400, error_body(api, 400, "request body is not JSON"))
            limit_headers: dict[str, str] = {}
            if server.limits is not None:
                wait, limit_headers = server.limits.admit(
                    api, prompt_tokens(body), int(body.get("max_tokens") or 0)
                )
                if wait:
                    return self._send(429, error_body(api, 429), limit_headers)
            fault = server.next_fault()
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.note(
                RecordedRequest(api=api, path=self.path, headers=headers, body=body, fault=fault)
            )
            if server.latency:
                time.sleep(server.latency)
            self._answer(api, body, fault, limit_headers)

        def _batch_route(self, method: str, raw: bytes) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = server.batches.handle(method, self.path, headers, raw)
            if answer is None:
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            server.note(
                RecordedRequest(
                    api="batch",
                    path=f"{method} {self.path}",
                    headers=headers,
                    body=None,
                    fault=None,
                )
            )
            status, data, content_type = answer
            self._send_raw(status, data, content_type=content_type)

        def _answer(
            self, api: str, body: dict, fault: str | None, limit_headers: dict[str, str]
        ) -> None:
            if fault in ("reset", "close"):
                return self._drop(reset=fault == "reset")
            if fault == "slow":
                time.sleep(server.slow_seconds)
            if fault == "malformed":
                return self._send_raw(200, b'{"id": "x", "choices": [ {"mess')
            if fault and fault[0].isdigit():
                status = int(fault)
                headers = {"retry-after": str(server.retry_after)} if status == 429 else {}
                return self._send(status, error_body(api, status), headers)
            if fault == "content_policy_400":
                return self._send(400, error_body(api, 400, "content_policy_violation"))
            if fault == "empty":
                return self._send(
                    200,
                    {"id": "x", "object": "chat.completion"}
                    if api == "openai"
                    else {"id": "x", "type": "message"},
                )
            text = REFUSAL_TEXT if fault == "refusal" else server.respond(_messages(api, body))
            blocked = fault == "content_filter"
            self._send(
                200, success_body(api, body, "" if blocked else text, blocked), limit_headers
            )

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode(), headers)

        def _send_raw(
            self,
            status: int,
            data: bytes,
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:  # the client gave up (a timeout test): nothing to answer
                self.close_connection = True

        def _drop(self, reset: bool) -> None:
            if reset:  # SO_LINGER 0 makes close() send RST instead of FIN
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR) if not reset else None
            self.connection.close()

        def finish(self) -> None:
            with contextlib.suppress(OSError):
                super().finish()

    return Handler


def _messages(api: str, body: dict) -> list[dict]:
    messages = list(body.get("messages") or [])
    if api == "anthropic" and body.get("system"):
        messages.insert(0, {"role": "system", "content": body["system"]})
    return messages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI + Anthropic API.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--fail-always", choices=FAULTS, default=None)
    parser.add_argument("--rpm", type=float, default=None, help="enforce requests per minute")
    parser.add_argument("--tpm", type=float, default=None, help="enforce tokens per minute")
    args = parser.parse_args(argv)
    server = FakeServer(args.latency, port=args.port, record=False, rpm=args.rpm, tpm=args.tpm)
    server.fail_always = args.fail_always
    print(f"fake API on {server.url} (openai base URL {server.openai_base_url})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server._httpd.serve_forever()


if __name__ == "__main__":
    main()
