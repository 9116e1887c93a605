"""kill -9 for every command that writes a folder or file (mix, export, export --hub, view,
view --serve's index, judge, sweep): a real ``credo`` process is killed while a temp file of
its output is on disk, then the same command runs again. Nothing is lost or repeated, no
file is left half-written, and the rerun removes the stale hidden temps the killed run left
(only credo's own, only those no live run holds).

The Q&A, documents and eval runs have their own kill tests in ``test_runs_kill.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from credo.corpora import read_records
from credo.runs import LOCK_FILE, atomic_path, remove_stale_temps
from credo.testing import FakeServer

N = 20_000  # enough that each command writes for a while: the kill lands mid-write
TEMP = ".credo-tmp-"


def _corpus(folder: Path, n: int = N) -> Path:
    rng = random.Random(0)
    folder.mkdir(parents=True)
    with (folder / "records.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(n):
            words = " ".join(f"w{rng.randrange(10**9)}" for _ in range(30))
            row = {
                "id": f"r{i}",
                "messages": [
                    {"role": "user", "content": f"What is rule {i}? {words[:40]}"},
                    {"role": "assistant", "content": words},
                ],
                "meta": {},
            }
            handle.write(json.dumps(row) + "\n")
    return folder


def _argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "credo.cli.main", *args]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(_argv(args), capture_output=True, env={**os.environ, **env})
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    return done


def _temps(folder: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(folder) if TEMP in n)
    except FileNotFoundError:
        return []


def _kill_mid_write(args: list[str], watch: Path, **env: str) -> list[str]:
    """Start the command, SIGKILL it the moment a temp file of its appears in ``watch``;
    returns the temps seen then."""
    process = subprocess.Popen(
        _argv(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    deadline = time.monotonic() + 180
    while not (seen := _temps(watch)):
        if process.poll() is not None:
            pytest.fail(f"finished before writing anything: {process.stderr.read()!r}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "never wrote"
        time.sleep(0.001)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return seen


def _plant(folder: Path, target: str) -> tuple[Path, Path]:
    """A stale temp of ``target`` left by a process killed mid-write, and a user's hidden file
    that only looks alike (``.NAME.swp``): the first must go, the second stay."""
    code = (
        "import os, sys\n"
        "from credo.runs import atomic_path\n"
        "cm = atomic_path(sys.argv[1]); tmp = cm.__enter__(); tmp.write_text('half')\n"
        "print(tmp, flush=True); os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder / target)], capture_output=True, text=True
    )
    stale = Path(done.stdout.strip())
    assert stale.is_file() and TEMP in stale.name
    mine = folder / f".{target}.swp"
    mine.write_text("a user's editor file")
    return stale, mine


def _jsonl_ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def _whole_jsonl(path: Path) -> None:
    """Absent, or every line whole JSON (a kill never leaves half a file)."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n")
        for line in text.splitlines():
            json.loads(line)


def test_stale_temps_go_and_live_ones_stay(tmp_path: Path) -> None:
    stale, mine = _plant(tmp_path, "records.jsonl")
    with atomic_path(tmp_path / "manifest.json") as live:  # a live run's temp: locked
        live.write_text("{}")
        assert remove_stale_temps(tmp_path) == 1
        assert live.exists()
    assert not stale.exists() and mine.exists()
    other, _ = _plant(tmp_path, "openai.jsonl")
    assert remove_stale_temps(tmp_path, names=["records.jsonl"]) == 0  # not that target's
    assert other.exists()
    assert remove_stale_temps(tmp_path, names=["openai.jsonl"]) == 1


def test_mix_kill_9_then_rerun(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c")
    out = tmp_path / "mix"
    args = ["mix", "--part", f"w={corpus}:1", "--size", str(N), "--format", "openai",
            "--allow-unaudited", "--out", str(out)]  # fmt: skip
    _kill_mid_write(args, out)
    for name in ("records.jsonl", "openai.jsonl"):
        _whole_jsonl(out / name)
    stale, mine = _plant(out, "manifest.json")

    again = _run(args)  # no --overwrite: the folder is the killed mix's own
    assert again.returncode == 0, again.stderr
    reference = _run([*args[:-1], str(tmp_path / "ref")])
    assert reference.returncode == 0
    for name in ("records.jsonl", "openai.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes()
    ids = _jsonl_ids(out / "records.jsonl")
    assert len(ids) == len(set(ids)) == N
    assert not _temps(out) and not stale.exists() and mine.exists()
    assert not (out / LOCK_FILE).exists()
    finished = _run(args)  # a finished mix is still refused without --overwrite
    assert finished.returncode == 2 and b"already holds" in finished.stderr


def test_export_kill_9_then_rerun(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c")
    out = tmp_path / "exp"
    args = ["export", str(corpus), "--format", "openai", "--allow-unaudited", "--out", str(out)]
    _kill_mid_write(args, out)
    _whole_jsonl(out / "openai.jsonl")
    stale, mine = _plant(out, "openai.jsonl")

    again = _run(args)
    assert again.returncode == 0, again.stderr
    rows = (out / "openai.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == N and len(set(rows)) == N
    assert not _temps(out) and not stale.exists() and mine.exists()


@pytest.mark.needs("datasets", "pyarrow")  # the hub extra
def test_export_hub_kill_9_then_rerun(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c")
    args = ["export", str(corpus), "--hub", "--license", "cc-by-4.0", "--allow-unaudited"]
    seen = _kill_mid_write(args, corpus)  # the hub folder is built beside CORPUS/hub
    assert any(name.startswith(".hub" + TEMP) for name in seen)
    stale, mine = _plant(corpus, "hub")

    again = _run(args)
    assert again.returncode == 0, again.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(next((corpus / "hub" / "data").glob("train-*.parquet")))
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == N
    assert not _temps(corpus) and not stale.exists() and mine.exists()
    assert [r.id for r in read_records(corpus)] == [f"r{i}" for i in range(N)]  # input intact


def test_view_kill_9_then_rerun(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c")
    page = corpus / "view.html"
    earlier = "<html><title>credo view: c</title>an earlier page</html>"  # credo's own page
    page.write_text(earlier)
    _kill_mid_write(["view", str(corpus)], corpus)
    text = page.read_text(encoding="utf-8")
    assert text == earlier or text.rstrip().endswith("</html>")
    stale, mine = _plant(corpus, "view.html")

    again = _run(["view", str(corpus)])
    assert again.returncode == 0, again.stderr
    text = page.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>") and f"r{N - 1}" in text
    assert not _temps(corpus) and not stale.exists() and mine.exists()
    assert not list(corpus.glob("*.credo.lock"))


def test_view_serve_index_kill_9_then_rerun(tmp_path: Path) -> None:
    from credo.reports.view_server import serve_index_in_thread

    corpus = _corpus(tmp_path / "c")
    index_dir = Path(os.environ["CREDO_HOME"]) / "view-index"
    index_dir.mkdir(parents=True, exist_ok=True)
    before = sorted(os.listdir(corpus))
    _kill_mid_write(["view", str(corpus), "--serve", "--port", "0"], index_dir)
    assert not [n for n in os.listdir(index_dir) if TEMP not in n]  # no half index

    server = serve_index_in_thread(corpus)  # the rerun: builds the index whole
    try:
        with urllib.request.urlopen(f"{server.url}api/records?limit=1", timeout=30) as reply:
            assert json.loads(reply.read())["total"] == N
    finally:
        server.shutdown()
        server.index.close()
    assert not _temps(index_dir)
    assert sorted(os.listdir(corpus)) == before  # the user's folder never written


def test_judge_kill_9_then_rerun(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", n=8000)
    out = tmp_path / "judged"
    args = ["judge", str(corpus / "records.jsonl"), "--out", str(out)]
    _kill_mid_write(args, out)
    _whole_jsonl(out / "labels.jsonl")
    stale, mine = _plant(out, "labels.jsonl")

    again = _run(args)  # no --overwrite: the killed judge's own folder
    assert again.returncode == 0, again.stderr
    ids = _jsonl_ids(out / "labels.jsonl")
    assert len(ids) == len(set(ids)) == 8000
    assert json.loads((out / "report.json").read_text())["n"] == 8000
    assert not _temps(out) and not stale.exists() and mine.exists()
    refused = _run(args)  # finished labels (possibly paid for) stay without --overwrite
    assert refused.returncode == 2 and b"already holds labels.jsonl" in refused.stderr


def _answer(messages: list[dict]) -> str:
    rng = random.Random()
    return " ".join(f"w{rng.randrange(10**9)}" for _ in range(30))


def test_sweep_kill_9_then_rerun(tiny_spec: Path, tmp_path: Path) -> None:
    """Killed while a cell's corpus is landing; the rerun finishes the corpus (every id once)
    and every cell. The cells fail fast here (random answers fail the audit gate; there is no
    base model to train): what matters is that every state file is whole and the corpus
    neither lost nor repeated a record."""
    out = tmp_path / "sweep"
    config = tmp_path / "sweep.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "worldview": str(tiny_spec),
                "teacher": "openai/teacher",
                "base_model": str(tmp_path / "no-such-model"),
                "grid": {"condition": ["worldview"], "form": ["qa"], "size": [8]},
                "audit": {"embedding": False},
                "concurrency": 2,
            }
        )
    )
    with FakeServer(latency=0.2, respond=_answer) as server:
        env = {"OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": "not-a-real-key"}
        args = ["sweep", str(config), "--out", str(out)]
        process = subprocess.Popen(
            _argv(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, **env},
        )  # fmt: skip
        corpora = out / "artifacts" / "corpora"
        deadline = time.monotonic() + 180
        while not any(p.stat().st_size for p in corpora.glob("*/data/records.jsonl")):
            assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        json.loads((out / "sweep.json").read_text())  # written at the start, whole
        again = _run(args, **env)
    assert b"Traceback" not in again.stderr
    for records in corpora.glob("*/data/records.jsonl"):
        ids = _jsonl_ids(records)
        assert len(ids) == len(set(ids))
    for state in out.rglob("*.json"):
        json.loads(state.read_text())  # every state file whole
    cells = [json.loads(p.read_text()) for p in (out / "cells").glob("*.json")]
    assert cells and all(c["status"] in {"done", "failed"} for c in cells)
    assert not [p for p in out.rglob("*") if TEMP in p.name]
    assert not (out / LOCK_FILE).exists()
