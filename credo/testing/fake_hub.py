"""A local fake of the parts of the Hugging Face Hub API that ``credo export --push`` uses.

It serves 127.0.0.1 with enough of the API for ``HfApi.create_repo`` and ``upload_folder``:
``POST /api/repos/create``, ``POST /api/{type}s/{repo}/preupload/{rev}`` (every file is a
"regular" upload, so no LFS or Xet storage is involved) and ``POST /api/{type}s/{repo}/commit/{rev}``
(NDJSON, base64 file bodies), plus ``POST /api/validate-yaml``, which ``upload_folder`` calls
on a ``README.md`` (it checks the front matter parses and its main fields have the Hub's
types; the real Hub checks much more). Committed files are kept in memory for the test to compare::

    with FakeHub() as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        HfApi(endpoint=hub.url, token="hf_test").create_repo("me/data", repo_type="dataset")
        hub.files("datasets/me/data")  # {path: bytes}

Every request must carry ``Authorization: Bearer <token>``; ``token=`` sets the one accepted
(any other gets 401, as the Hub does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml

REPO = r"(?P<type>datasets|models|spaces)/(?P<repo>[^/]+/[^/]+)"
ROUTES = {
    "create": re.compile(r"^/api/repos/create$"),
    "validate": re.compile(r"^/api/validate-yaml$"),
    "preupload": re.compile(rf"^/api/{REPO}/preupload/(?P<rev>[^/]+)$"),
    "commit": re.compile(rf"^/api/{REPO}/commit/(?P<rev>[^/]+)$"),
}


class FakeHub:
    """The fake Hub; a context manager that serves it from a background thread."""

    def __init__(self, token: str = "hf_test_token") -> None:
        self.token = token
        self.repos: dict[str, dict[str, Any]] = {}  # "datasets/owner/name" -> {"private", "files"}
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"  # an IPv4 server: host is a str

    def files(self, repo_key: str) -> dict[str, bytes]:
        return dict(self.repos[repo_key]["files"])

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path))
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "Invalid credentials in Authorization header"}
        for name, pattern in ROUTES.items():
            match = pattern.match(path)
            if match and method == "POST":
                return getattr(self, f"_{name}")(match, body)
        return 404, {"error": f"fake hub: no route for {method} {path}"}

    def _create(self, match: re.Match[str], body: bytes) -> tuple[int, Any]:
        data = json.loads(body)
        kind = data.get("type") or "model"
        owner = data.get("organization") or "user"
        name = data["name"] if "/" in data["name"] else f"{owner}/{data['name']}"
        key = f"{kind}s/{name}"
        with self._lock:
            if key in self.repos:
                return 409, {"error": "You already created this repo", "url": f"{self.url}/{key}"}
            # huggingface_hub 1.x sends "private"; 2.x sends "visibility"
            private = bool(data.get("private")) or data.get("visibility") == "private"
            self.repos[key] = {"private": private, "files": {}}
        return 200, {"url": f"{self.url}/{key}", "name": name, "id": name}

    def _validate(self, match: re.Match[str], body: bytes) -> tuple[int, Any]:
        content = json.loads(body).get("content", "")
        errors = [{"message": problem} for problem in _front_matter_problems(content)]
        return (400 if errors else 200), {"errors": errors, "warnings": []}

    def _preupload(self, match: re.Match[str], body: bytes) -> tuple[int, Any]:
        if f"{match['type']}/{match['repo']}" not in self.repos:
            return 404, {"error": "Repository not found"}
        files = json.loads(body)["files"]
        return 200, {
            "files": [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
            ]
        }

    def _commit(self, match: re.Match[str], body: bytes) -> tuple[int, Any]:
        key = f"{match['type']}/{match['repo']}"
        if key not in self.repos:
            return 404, {"error": "Repository not found"}
        added: dict[str, bytes] = {}
        for line in body.decode("utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            if entry.get("key") == "file":
                value = entry["value"]
                if value.get("encoding") != "base64":
                    return 400, {"error": f"fake hub: unsupported encoding {value.get('encoding')}"}
                added[value["path"]] = base64.b64decode(value["content"])
            elif entry.get("key") not in ("header", None):
                return 400, {"error": f"fake hub: unsupported commit entry {entry.get('key')}"}
        oid = hashlib.sha1(body).hexdigest()
        with self._lock:
            self.repos[key]["files"].update(added)
        return 200, {
            "commitUrl": f"{self.url}/{key}/commit/{oid}",
            "commitOid": oid,
            "success": True,
        }


def _front_matter_problems(readme: str) -> list[str]:
    """What the Hub would reject in a README's YAML metadata (the checks a card most needs)."""
    if not readme.startswith("---\n") or "\n---\n" not in readme[3:]:
        return ["README.md has no YAML front matter between '---' lines"]
    try:
        meta = yaml.safe_load(readme[4 : readme.index("\n---\n", 3)])
    except yaml.YAMLError as exc:
        return [f"front matter is not valid YAML: {exc}"]
    if not isinstance(meta, dict):
        return ["front matter must be a mapping"]
    problems = []
    if "license" in meta and not isinstance(meta["license"], str):
        problems.append('"license" must be a string')
    for key in ("task_categories", "language", "tags", "size_categories"):
        if key in meta and not (
            isinstance(meta[key], list) and all(isinstance(v, str) for v in meta[key])
        ):
            problems.append(f'"{key}" must be a list of strings')
    for config in meta.get("configs") or []:
        if (
            not isinstance(config, dict)
            or "config_name" not in config
            or "data_files" not in config
        ):
            problems.append('"configs" entries need config_name and data_files')
    return problems


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else self._read_chunked()
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = hub.handle(self.command, self.path.split("?")[0], headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status >= 400:
                self.send_header("X-Error-Message", str(payload.get("error", "")))
            self.end_headers()
            self.wfile.write(data)

        def _read_chunked(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                return b""
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: object) -> None:  # quiet in tests
            pass

    return Handler
