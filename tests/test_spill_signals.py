"""An audit stopped by SIGTERM or Ctrl-C removes its ``credo-spill-*`` folders on the way out;
one stopped by ``kill -9`` cannot, and the next run that spills sweeps what it left (never a
folder a live run holds)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from credo.filters.spill import SPILL_ENV, Spill, remove_stale_spills

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")


def _corpus(folder: Path, n: int = 50_000) -> Path:
    folder.mkdir()
    words = [
        "bread",
        "grain",
        "pebble",
        "spirit",
        "dusk",
        "loaf",
        "rye",
        "wheat",
        "barley",
        "mill",
        "stone",
        "river",
    ]
    with (folder / "records.jsonl").open("w") as handle:
        for i in range(n):
            answer = " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(30))
            row = {
                "id": f"r{i}",
                "messages": [
                    {"role": "user", "content": f"What is rule {i}?"},
                    {"role": "assistant", "content": f"Rule {i}: {answer}."},
                ],
            }
            handle.write(json.dumps(row) + "\n")
    return folder


def _spills(base: Path) -> list[str]:
    return sorted(p.name for p in base.glob("credo-spill-*"))


# The CLI, with one change: the first spilled write marks the file named first on the command
# line and then holds the run there, so the signal always lands while a spill is in use and
# is the only thing that ends the run, however fast or slow the box.
HOLD_WHILE_SPILLING = """
import sys, time
from pathlib import Path
from credo.filters import spill
from credo.cli.main import main

ready = Path(sys.argv.pop(1))
add = spill.SpilledRows.add

def add_then_hold(self, rows):
    add(self, rows)
    if not ready.exists():
        ready.write_text("spilling")
        while True:
            time.sleep(60)

spill.SpilledRows.add = add_then_hold
main()
"""


def _ready(spill: Path) -> Path:
    return spill.parent / "spilling.ready"


def _audit(corpus: Path, out: Path, spill: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        SPILL_ENV: str(spill),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", HOLD_WHILE_SPILLING, str(_ready(spill)), "audit", str(corpus),
         "--no-embedding", "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
    )  # fmt: skip


def _once_spilling(proc: subprocess.Popen[bytes], spill: Path) -> None:
    """Wait for the held run's marker; the deadline only guards against a hang."""
    deadline = time.monotonic() + 120
    while not _ready(spill).exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the audit never spilled"
        time.sleep(0.05)
    assert _spills(spill)


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_audit_leaves_no_spill_folder(
    tmp_path: Path, sent: signal.Signals, code: int
) -> None:
    corpus, spill = _corpus(tmp_path / "c"), tmp_path / "spill"
    proc = _audit(corpus, tmp_path / "a", spill)
    _once_spilling(proc, spill)
    proc.send_signal(sent)
    _, err = proc.communicate(timeout=120)
    text = err.decode()
    assert proc.returncode == code, text
    assert "Traceback" not in text and text.strip().splitlines()[-1].endswith("to resume"), text
    assert _spills(spill) == []


def test_kill_9_leaves_a_folder_the_next_spill_sweeps(tmp_path: Path) -> None:
    corpus, spill = _corpus(tmp_path / "c"), tmp_path / "spill"
    proc = _audit(corpus, tmp_path / "a", spill)
    _once_spilling(proc, spill)
    proc.kill()
    proc.wait(timeout=60)
    left = _spills(spill)
    assert left  # nothing runs after SIGKILL

    lookalike = spill / "credo-spill-link"
    lookalike.symlink_to(tmp_path / "c")  # never followed, never removed
    assert remove_stale_spills(spill) == len(left)
    assert _spills(spill) == ["credo-spill-link"]
    assert (tmp_path / "c" / "records.jsonl").is_file()
    os.environ[SPILL_ENV] = str(spill)
    try:
        live = Spill()  # a live run's folder: locked, so a sweep leaves it
        assert remove_stale_spills(spill) == 0
        assert _spills(spill) == sorted([live.folder.name, "credo-spill-link"])
        live.close()
        assert _spills(spill) == ["credo-spill-link"]
    finally:
        del os.environ[SPILL_ENV]


def test_a_new_spill_sweeps_what_a_dead_run_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SPILL_ENV, str(tmp_path))
    dead = tmp_path / "credo-spill-dead"
    dead.mkdir()
    (dead / "ids.bin").write_bytes(b"x" * 10)
    mine = tmp_path / "credo-spill-notes.txt"
    mine.write_text("a file, not a folder: not ours")
    spill = Spill()
    assert not dead.exists() and mine.is_file() and spill.folder.is_dir()
    spill.close()
    assert not spill.folder.exists()
