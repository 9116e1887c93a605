"""Kill a real ``credo generate`` process with SIGKILL mid-run, rerun it, check completeness."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from credo.corpora import read_records
from credo.generators import generate_corpus
from credo.generators.run_options import GenerateOptions
from credo.testing import FakeServer

SAMPLES = 20  # 9 tiny prompts x 20 samples = 180 jobs


def _count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.needs("openai")  # the CLI reports the missing package as exit 2
def test_kill_9_mid_run_then_resume_is_complete_without_duplicates(tiny_spec, tmp_path):
    out = tmp_path / "corpus"
    args = [
        "generate",
        str(tiny_spec),
        "--model",
        "openai/teacher",
        "--out",
        str(out),
        "--samples",
        str(SAMPLES),
        "--concurrency",
        "4",
    ]
    with FakeServer(latency=0.05) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "credo.cli.main", *args, "--base-url", server.openai_base_url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while _count_lines(out / "records.jsonl") < 30 and process.poll() is None:
            assert time.monotonic() < deadline, "the run never wrote 30 records"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
        partial = [r.id for r in read_records(out)]
        assert 30 <= len(partial) < 9 * SAMPLES
        requests_before = len(server.requests)

        result = generate_corpus(
            tiny_spec,
            out,
            options=GenerateOptions(
                model="openai/teacher",
                samples=SAMPLES,
                concurrency=4,
                base_url=server.openai_base_url,
            ),
            progress=False,
        )
        ids = [r.id for r in read_records(out)]
        assert len(ids) == len(set(ids)) == 9 * SAMPLES
        assert set(partial) <= set(ids)
        resumed_requests = len(server.requests) - requests_before
        # Only jobs without a record are done again: asked anew, or from the cache when the kill
        # fell between caching an answer and writing its record.
        cache_hits = result.manifest["last_run"]["cache_hits"]
        assert resumed_requests + cache_hits == 9 * SAMPLES - len(partial)
        assert resumed_requests == result.manifest["last_run"]["requests"]
    manifest = (out / "manifest.json").read_text()
    assert '"status": "complete"' in manifest
