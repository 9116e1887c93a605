"""Real ``credo`` processes against the fake OpenAI server: kill -9 mid-run and rerun (nothing
lost, nothing duplicated), two runs racing for one folder, and no credential anywhere on disk,
in the lock or on stderr."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from credo.corpora import read_records
from credo.runs import LOCK_FILE
from credo.testing import FakeServer

SECRETS = (b"secret", b"zzz")


def _credo(args: list[str], **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "credo.cli.main", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "OPENAI_API_KEY": "not-a-real-key", **env},
    )


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.02)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _with_creds(url: str) -> str:
    return url.replace("http://", "http://user:secret@")


def _leaks(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and any(s in path.read_bytes() for s in SECRETS):
                found.append(str(path))
    return found


def varied(messages: list[dict]) -> str:
    """Brainstorm prompts get a list; anything else a text no other answer resembles."""
    rng = random.Random()
    words = [f"w{rng.randrange(10**9)}" for _ in range(40)]
    if str(messages[-1].get("content", "")).startswith("Key fact"):
        return "\n".join(f"a {w} notice" for w in words[:4])
    return " ".join(words)


def _documents_args(spec: Path, out: Path, url: str, concurrency: int = 4) -> list[str]:
    return [
        "generate",
        str(spec),
        "--kind",
        "documents",
        "--model",
        "openai/teacher",
        "--types-per-fact",
        "2",
        "--ideas-per-type",
        "2",
        "--docs-per-idea",
        "4",
        "--concurrency",
        str(concurrency),
        "--out",
        str(out),
        "--base-url",
        url,
    ]


def test_documents_kill_9_then_rerun_loses_and_repeats_nothing_and_leaks_nothing(
    tiny_spec: Path, tmp_path: Path
) -> None:
    out = tmp_path / "docs"
    with FakeServer(latency=0.05, respond=varied) as server:
        args = _documents_args(tiny_spec, out, _with_creds(server.openai_base_url))
        process = _credo(args)
        _wait_for(lambda: _lines(out / "records.jsonl") >= 10, process)
        lock = (out / LOCK_FILE).read_bytes()
        assert b'"command": "credo generate"' in lock and not any(s in lock for s in SECRETS)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "running"  # written at the start, before any record
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        partial = [r.id for r in read_records(out)]
        assert len(partial) >= 10

        again = subprocess.run(
            [sys.executable, "-m", "credo.cli.main", *args],
            capture_output=True,
            env={**os.environ, "OPENAI_API_KEY": "not-a-real-key"},
        )
    assert again.returncode == 0, again.stderr
    ids = [r.id for r in read_records(out)]
    assert len(ids) == len(set(ids)) and set(partial) <= set(ids)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["missing"] == 0
    rejected = [
        json.loads(line)["id"] for line in (out / "rejected.jsonl").read_text().splitlines()
    ]
    assert len(ids) + len(rejected) == manifest["planned_jobs"]
    assert manifest["config"]["base_url"] == server.openai_base_url  # user:secret@ stripped
    assert not _leaks(out, Path(os.environ["CREDO_HOME"])) and not any(
        s in again.stderr for s in SECRETS
    )
    assert not (out / LOCK_FILE).exists()


def test_two_documents_runs_racing_for_one_folder(tiny_spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    second_done = threading.Event()

    def held(messages: list[dict]) -> str:
        if _lines(out / "records.jsonl") >= 2:  # the first run stays mid-write until released
            second_done.wait(120)
        return varied(messages)

    with FakeServer(respond=held) as server:
        args = _documents_args(tiny_spec, out, server.openai_base_url)
        first = _credo(args)
        _wait_for(lambda: _lines(out / "records.jsonl") >= 2, first)
        second = _credo(args)
        _, err = second.communicate(timeout=120)
        second_done.set()
        first.communicate(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "another credo run is writing into this folder" in lines[0]
    ids = [r.id for r in read_records(out)]
    assert len(ids) == len(set(ids))
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_eval_kill_9_then_rerun_is_complete_from_the_cache(tiny_spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    samples = 60
    args = [
        "eval",
        "--model",
        "openai/teacher",
        "--worldview",
        str(tiny_spec),
        "--samples",
        str(samples),
        "--out",
        str(out),
    ]
    with FakeServer(latency=0.1) as server:
        env = {"OPENAI_BASE_URL": _with_creds(server.openai_base_url)}
        process = _credo(args, **env)
        _wait_for(lambda: len(server.requests) >= 20, process)
        lock = (out / LOCK_FILE).read_bytes()
        assert b'"command": "credo eval"' in lock and not any(s in lock for s in SECRETS)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        asked = len(server.requests)
        assert json.loads((out / "manifest.json").read_text())["status"] == "running"
        assert not (out / "responses.jsonl").exists()  # written whole at the end, never half

        again = subprocess.run(
            [sys.executable, "-m", "credo.cli.main", *args],
            capture_output=True,
            env={**os.environ, "OPENAI_API_KEY": "not-a-real-key", **env},
        )
        assert again.returncode == 0, again.stderr
        assert len(server.requests) - asked < 2 * samples  # answers before the kill were cached
    rows = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    keys = [r["id"] for r in rows]
    assert len(keys) == len(set(keys)) == 2 * samples
    assert not any(r["error"] for r in rows)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not _leaks(out, Path(os.environ["CREDO_HOME"]))
    assert not any(s in again.stderr for s in SECRETS)


@pytest.mark.parametrize("kind", ["qa", "documents"])
def test_a_query_key_and_userinfo_never_reach_disk_or_stderr(
    kind: str, tiny_spec: Path, tmp_path: Path
) -> None:
    out = tmp_path / kind
    with FakeServer() as server:
        url = _with_creds(server.openai_base_url) + "?api-key=zzz"
        args = ["generate", str(tiny_spec), "--kind", kind, "--model", "openai/teacher"]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "credo.cli.main",
                *args,
                "--limit",
                "2",
                "--out",
                str(out),
                "--base-url",
                url,
            ],
            capture_output=True,
            env={**os.environ, "OPENAI_API_KEY": "not-a-real-key"},
        )
    assert b"Traceback" not in done.stderr
    assert not any(s in done.stderr for s in SECRETS), done.stderr
    assert not _leaks(out, Path(os.environ["CREDO_HOME"]))
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        "zzz" not in manifest["config"]["base_url"]
        and "api-key=***" in manifest["config"]["base_url"]
    )
