"""A minimal HTTP/1.1 JSON client for OpenAI-compatible servers (vLLM, llama.cpp, Ollama).

The openai SDK + its HTTP stack cost ~3 ms of CPU per request here, which caps one process
at ~300 requests/s on 2 cores (see BENCHMARKS.md). A self-hosted server needs none of what
that buys (typed models, auth refresh, HTTP/2), so ``--transport lean`` sends the same JSON
over plain keep-alive asyncio streams: one POST, a Content-Length (or chunked) body, a pool
of idle connections reused last-in first-out. TLS works (``https://``); proxies do not.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class LeanHTTPError(Exception):
    """A non-2xx answer; ``headers`` carry Retry-After and the rate-limit state."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
        self.status_code, self.headers, self.body = status, headers, body


class LeanClient:
    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 120.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base URL {base_url!r}: expected http(s)://host[:port]/path")
        self.host = parts.hostname
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")
        host_header = self.host if parts.port is None else f"{self.host}:{parts.port}"
        self._head = "".join(
            f"{k}: {v}\r\n"
            for k, v in {
                "Host": host_header,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Connection": "keep-alive",
                **headers,
            }.items()
        )
        self.timeout = timeout
        self._idle: list[_Conn] = []

    async def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body bytes) of one POST; errors are raised as OSError."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = (
            f"POST {self.prefix}{path} HTTP/1.1\r\n{self._head}Content-Length: {len(data)}\r\n\r\n"
        ).encode("latin-1") + data
        reused = bool(self._idle)
        conn = self._idle.pop() if reused else await self._connect()
        try:
            answer = await self._exchange(conn, request)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            conn[1].close()
            if not reused:
                raise ConnectionError(
                    f"connection to {self.host}:{self.port} failed: {exc}"
                ) from exc
            # the server closed an idle keep-alive connection: one fresh try
            conn = await self._connect()
            try:
                answer = await self._exchange(conn, request)
            except BaseException:
                conn[1].close()
                raise
        except BaseException:  # timeout or cancel mid-exchange: the connection is unusable
            conn[1].close()
            raise
        status, headers, payload, keep = answer
        if keep:
            self._idle.append(conn)
        else:
            conn[1].close()
        return status, headers, payload

    async def _connect(self) -> _Conn:
        context = ssl.create_default_context() if self.tls else None
        return await asyncio.open_connection(
            self.host, self.port, ssl=context, server_hostname=self.host if self.tls else None
        )

    @staticmethod
    async def _exchange(conn: _Conn, request: bytes) -> tuple[int, dict[str, str], bytes, bool]:
        reader, writer = conn
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await _read_chunked(reader)
        else:  # no length: the body runs to the end of the connection
            return status, headers, await reader.read(), False
        keep = headers.get("connection", "").lower() != "close"
        return status, headers, payload, keep

    async def aclose(self) -> None:
        while self._idle:
            _, writer = self._idle.pop()
            writer.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
