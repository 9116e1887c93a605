"""SIGTERM stops an asyncio run through its cleanup wherever the signal lands. Raised inside a
task's step (Ctrl-C ignored, as in a background job), the KeyboardInterrupt used to stay on the
run's main task, and asyncio printed "Task exception was never retrieved" after the run's
last line (seen once under load in the hostile SIGTERM test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# The shape of generate's run: workers gathered by a main task that cancels and awaits them
# on the way out; the SIGTERM lands inside one worker's step, with the CLI's handler.
RUN = """
import asyncio, os, signal, sys
from credo.cli.main import _terminated

signal.signal(signal.SIGINT, signal.SIG_IGN if sys.argv[1] == "ignored" else signal.default_int_handler)
signal.signal(signal.SIGTERM, _terminated)
cleaned = []

async def worker(n):
    try:
        for i in range(1000):
            await asyncio.sleep(0)
            if n == 0 and i == 3:
                os.kill(os.getpid(), signal.SIGTERM)
                sum(range(1000))  # still in this step when the handler runs
    finally:
        cleaned.append(n)

async def run():
    tasks = [asyncio.create_task(worker(n)) for n in range(2)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

try:
    asyncio.run(run())
except KeyboardInterrupt:
    print("interrupted", sorted(cleaned))
"""


@pytest.mark.parametrize("sigint", ["ignored", "default"])
def test_sigterm_inside_a_task_step_leaves_no_unretrieved_task(sigint: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN, sigint],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],  # this tree's credo
    )
    assert done.stdout.strip() == "interrupted [0, 1]", done.stderr
    assert "never retrieved" not in done.stderr and "Traceback" not in done.stderr, done.stderr
