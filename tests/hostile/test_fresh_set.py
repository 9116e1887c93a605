"""The fresh hostile set's defects that are not "exit 2 and nothing changed": a provider that
cannot be reached in batch mode, and ``credo new`` beside a user's ``NAME.partial`` folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from catalogue import TINY_SPEC

from credo.cli.main import main

SECRET_URL = "http://user:hunter2pw@127.0.0.1:9/v1?api-key=qqsecretqq"


def test_batch_submit_to_an_unreachable_provider_is_one_scrubbed_line(tmp_path: Path) -> None:
    out = tmp_path / "g"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "credo.cli.main",
            "generate",
            str(TINY_SPEC),
            "--model",
            "openai/gpt-x",
            "--limit",
            "1",
            "--batch",
            "--no-wait",
            "--base-url",
            SECRET_URL,
            "--out",
            str(out),
        ],
        capture_output=True,
        env={**os.environ, "OPENAI_API_KEY": "sk-not-real"},
    )
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err
    assert "batch submit: APIConnectionError" in err.strip().splitlines()[-1]
    assert "hunter2pw" not in err and "qqsecretqq" not in err
    for path in [*out.rglob("*"), *Path(os.environ["CREDO_HOME"]).rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert b"hunter2pw" not in data and b"qqsecretqq" not in data, path


def test_new_never_builds_in_or_moves_a_users_partial_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "pebbles.partial"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    try:
        main(["new", "pebbles", "--out", str(tmp_path / "pebbles")])
    except SystemExit as exc:
        assert exc.code in (0, None)
    assert (mine / "notes.txt").read_text() == "my notes"
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    spec = tmp_path / "pebbles"
    assert (spec / "spec.yaml").is_file() and not (spec / "notes.txt").exists()
    assert oct(spec.stat().st_mode & 0o777) == oct(0o777 & ~_umask())  # not mkdtemp's 0700
    assert not [p for p in tmp_path.iterdir() if ".credo-tmp-" in p.name]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_an_eval_whose_every_request_failed_exits_2_with_its_rows_kept(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-real")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:hunter2pw@127.0.0.1:9/v1")
    out = tmp_path / "ev"
    args = ["eval", "--model", "openai/teacher", "--worldview", str(TINY_SPEC), "--samples", "1",
            "--limit", "2", "--out", str(out)]  # fmt: skip
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and "all 2 requests failed" in err.strip().splitlines()[-1]
    assert "hunter2pw" not in err
    assert len((out / "responses.jsonl").read_text().splitlines()) == 2  # kept for a look


def test_an_eval_whose_llm_judge_failed_on_every_answer_exits_2(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Round 6: the answers were fine, the judge was unreachable, and the eval exited 0 with a
    table of ERROR labels for its primary judge."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-real")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:hunter2pw@127.0.0.1:9/v1")
    out = tmp_path / "ev"
    args = ["eval", "--model", "fake/echo", "--worldview", str(TINY_SPEC), "--samples", "1",
            "--limit", "1", "--judge", "openai/gpt-x", "--out", str(out)]  # fmt: skip
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert code == 2 and "openai/gpt-x: judged none of the 2 answers" in last, err
    assert "hunter2pw" not in err
    assert (out / "results.json").is_file() and len(
        (out / "responses.jsonl").read_text().splitlines()
    ) == 2
    for path in out.rglob("*"):
        assert path.is_dir() or b"hunter2pw" not in path.read_bytes(), path


def test_generate_stopped_by_sigterm_resumes_with_every_record_once(tmp_path: Path) -> None:
    """SIGTERM (a scheduler's stop) ends generation through its cleanup: exit 143, its line
    last, the lock released; the rerun finishes with every record exactly once."""
    import json
    import signal
    import time

    from credo.testing.fake_server import FakeServer

    out = tmp_path / "g"
    with FakeServer(latency=0.3) as server:
        args = [sys.executable, "-m", "credo.cli.main", "generate", str(TINY_SPEC), "--model",
                "openai/gpt-x", "--samples", "4", "--concurrency", "2", "--base-url",
                server.openai_base_url, "--out", str(out)]  # fmt: skip
        env = {**os.environ, "OPENAI_API_KEY": "sk-not-real"}
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        records = out / "records.jsonl"
        while not (records.is_file() and records.stat().st_size):
            assert process.poll() is None and time.monotonic() < deadline, "never wrote"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        err = process.communicate(timeout=120)[1].decode()
        assert process.returncode == 143, err
        assert err.rstrip().endswith("terminated - rerun the same command to resume"), err
        assert "Traceback" not in err and not (out / ".credo.lock").exists()
        partial = len(records.read_text().splitlines())
        done = subprocess.run(args, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
    ids = [json.loads(line)["id"] for line in records.read_text().splitlines()]
    assert len(ids) == len(set(ids)) > partial
