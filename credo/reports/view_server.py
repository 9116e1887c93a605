"""``credo view --serve``: the record viewer as a small app over the SQLite index.

The server answers exactly three paths and never touches the filesystem on a request:

- ``/``: the app (one page, its data fetched per page of the list);
- ``/api/records?check=&label=&q=&offset=&limit=``: one filtered page and its total;
- ``/api/record?id=``: one record with its flags and labels.

Nothing else in the folder is reachable (no static files, no listing, so no ``.credo.lock``,
``.env`` or symlink to follow). It binds 127.0.0.1 and answers only requests whose ``Host``
is ``127.0.0.1:PORT`` or ``localhost:PORT``: a page on another site that rebinds its DNS name
to 127.0.0.1 sends its own name as ``Host`` and gets a 400.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from credo.errors import ConfigError, CredoError
from credo.reports.view_index import PAGE_MAX, Query, ViewIndex

# The app is inline and fetches only its own API: nothing else may load or run.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
REQUEST_TIMEOUT = 20.0  # seconds a connection may stay silent mid-request


def render_app(index: ViewIndex, title: str) -> str:
    from credo.reports import render_page

    facets = index.facets()
    return render_page(
        "viewer_app.html.j2",
        title=title,
        records=index.records,
        checks=facets["checks"],
        labels=facets["labels"],
        unmatched=int(index.info.get("unmatched", 0)),
        page_max=PAGE_MAX,
    )


class ViewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, index: ViewIndex, title: str, port: int) -> None:
        self.index = index
        self.lock = threading.Lock()  # one SQLite connection, used by one thread at a time
        self.app = render_app(index, title).encode("utf-8")
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError as exc:
            raise ConfigError(f"port {port}: {exc.strerror} - pick another with --port") from None
        self.allowed_hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line on stderr instead of socketserver's traceback; the server keeps serving."""
        import sys

        error = sys.exc_info()[1]
        print(f"credo view: a request failed ({type(error).__name__}: {error})", file=sys.stderr)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


class _Handler(BaseHTTPRequestHandler):
    server: ViewServer
    server_version = "credo-view"
    sys_version = ""
    # A client that sends half a request and waits holds a thread: it is dropped after this
    # many seconds of silence, so idle connections cannot pile up (the page's own requests
    # arrive whole, at once).
    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:  # no request log wanted
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The parser's own refusals (a bad request line, huge headers, 501s) as JSON with the
        same security headers as every other answer, not http.server's HTML page."""
        self.close_connection = True
        self._send(code, {"error": message or self.responses.get(code, ("error",))[0]})

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._send(405, {"error": "only GET is served"}, allow="GET")

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = (
        _not_allowed
    )

    def do_GET(self) -> None:
        hosts = self.headers.get_all("Host") or []
        url = urlsplit(self.path)
        # exactly one Host, ours; an absolute-form target (GET http://other/) names a host too
        if (
            len(hosts) != 1
            or hosts[0].lower() not in self.server.allowed_hosts
            or (url.netloc and url.netloc.lower() not in self.server.allowed_hosts)
        ):
            self._send(400, {"error": "unexpected Host header - open the address credo printed"})
            return
        try:
            params = {k: v[-1] for k, v in parse_qs(url.query, max_num_fields=16).items()}
        except ValueError:  # over 16 fields: no page of ours asks for that many
            self._send(400, {"error": "too many query fields"})
            return
        if url.path == "/":
            self._send(200, self.server.app, "text/html; charset=utf-8")
        elif url.path == "/api/records":
            try:
                query = Query(
                    check=params.get("check", "")[:200],
                    label=params.get("label", "")[:200],
                    q=params.get("q", "")[:500],
                    offset=int(params.get("offset", "0")),
                    limit=int(params.get("limit", "100")),
                    after=int(params.get("after", "0")),
                )
            except (ValueError, CredoError) as exc:
                self._send(400, {"error": str(exc)})
                return
            try:
                with self.server.lock:
                    page = self.server.index.page(query)
            except sqlite3.Error:  # a search SQLite cannot read: the reader's input, not a crash
                self._send(400, {"error": "search not understood - use words or an id"})
                return
            self._send(200, page)
        elif url.path == "/api/record":
            with self.server.lock:
                item = self.server.index.record(params.get("id", ""))
            self._send(*((200, item) if item else (404, {"error": "no such record"})))
        else:
            self._send(404, {"error": "not found"})

    def _send(
        self, status: int, body: Any, content_type: str = "application/json", allow: str = ""
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in {**_HEADERS, **({"Allow": allow} if allow else {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has headers only
            self.wfile.write(data)


def serve_index(
    source: Path, audit: Path | None = None, labels: Path | None = None, port: int = 8000
) -> ViewServer:
    """Build (or reuse) the index of ``source`` and bind the server; the caller serves it."""
    from credo.reports.view_index import open_index, resolve_sources

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: a port is 0..65535 (0 picks a free one)")
    index = open_index(resolve_sources(source, audit, labels))
    return ViewServer(index, f"credo view: {source}", port)


def serve_index_in_thread(
    source: Path, audit: Path | None = None, labels: Path | None = None
) -> ViewServer:
    """:func:`serve_index` on a free port in a daemon thread (tests, notebooks)."""
    server = serve_index(source, audit, labels, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
