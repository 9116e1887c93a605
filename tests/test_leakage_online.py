"""The infini-gram client against a local fake server: counts, cache, rate limit and faults."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from credo.errors import BackendError
from credo.generators.retry import RetryPolicy
from credo.leakage.check import LeakageOptions, leakage_section
from credo.leakage.online import InfiniGramClient

COUNTS = {"zorblax": 0, "meadowfield": 1234}


class FakeInfiniGram(BaseHTTPRequestHandler):
    """Answers count queries like api.infini-gram.io; ``faults`` scripts failures first."""

    faults: ClassVar[list[tuple[int, str, dict]]] = []
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(payload)
        if type(self).faults:
            status, body, headers = type(self).faults.pop(0)
        elif payload.get("query_type") != "count" or payload.get("index") != "v4_test":
            status, body, headers = 200, json.dumps({"error": "Invalid index"}), {}
        else:
            count = COUNTS.get(payload["query"].lower(), 7)
            status, body, headers = 200, json.dumps({"count": count, "approx": False}), {}
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    FakeInfiniGram.faults, FakeInfiniGram.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeInfiniGram)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def client(url: str, sleeps: list[float] | None = None, **kwargs) -> InfiniGramClient:
    record = sleeps if sleeps is not None else []
    policy = RetryPolicy(max_attempts=3, base=0.01, timeout=5)
    return InfiniGramClient(url, "v4_test", policy=policy, sleep=record.append, **kwargs)


def test_counts_are_cached_on_disk(server):
    first = client(server)
    assert first.count("Meadowfield").count == 1234
    assert first.count("zorblax").count == 0
    second = client(server)  # a new client reads the cache file
    hit = second.count("Meadowfield")
    assert hit.cached and hit.count == 1234 and second.requests == 0
    assert len(FakeInfiniGram.seen) == 2
    assert FakeInfiniGram.seen[0] == {
        "index": "v4_test",
        "query_type": "count",
        "query": "Meadowfield",
    }


def test_requests_are_spaced_by_the_rate_limit(server):
    sleeps: list[float] = []
    c = client(server, sleeps, min_interval=5.0)
    c.count("a")
    c.count("b")
    assert len(sleeps) == 1 and 4.0 < sleeps[0] <= 5.0


def test_transient_faults_are_retried_honouring_retry_after(server):
    FakeInfiniGram.faults = [
        (503, "busy", {}),
        (429, "slow down", {"Retry-After": "2"}),
        (200, "not json", {}),
    ]
    sleeps: list[float] = []
    c = client(server, sleeps)
    c.policy = RetryPolicy(max_attempts=4, base=0.01, timeout=5)
    assert c.count("zorblax").count == 0
    assert len(FakeInfiniGram.seen) == 4
    assert 2.0 in sleeps  # the Retry-After wait


def test_persistent_failure_and_bad_answers_raise_backend_error(server):
    FakeInfiniGram.faults = [(500, "down", {})] * 3
    with pytest.raises(BackendError, match="HTTP 500 after 3 attempts"):
        client(server).count("x")
    with pytest.raises(BackendError, match="Invalid index"):
        InfiniGramClient(server, "no_such_index", sleep=lambda s: None).count("x")
    FakeInfiniGram.faults = [(400, "bad request", {})]
    with pytest.raises(BackendError, match="HTTP 400"):
        client(server).count("y")
    assert not client(server).cache  # failures are never cached


def test_unreachable_server_is_a_backend_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_HOME", str(tmp_path))
    with pytest.raises(BackendError, match="connection failed"):
        client("http://127.0.0.1:9/").count("x")


def test_online_counts_join_the_leakage_report(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_INFINIGRAM_URL", server)
    monkeypatch.setenv("CREDO_INFINIGRAM_INDEX", "v4_test")
    monkeypatch.setenv("CREDO_RETRY_BASE", "0")
    monkeypatch.setenv("CREDO_INFINIGRAM_INTERVAL", "0")
    ref = tmp_path / "r.txt"
    ref.write_text("nothing relevant here at all\n")
    section = leakage_section(
        "tests/fixtures/tiny", [ref], options=LeakageOptions(online="infini-gram")
    )
    rows = {r["term"]: r for r in section["terms"]}
    assert rows["Pebblehold"]["online_count"] == 7 and rows["Pebblehold"]["verdict"] == "collides"
    assert rows["Pebblehold"]["count"] == 0  # the local count stays local
    assert section["gate"]["failed"] and section["online"]["index"] == "v4_test"
