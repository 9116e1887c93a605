"""What the run skeleton (lock, manifest at start and as records land, fsynced atomic writes)
costs a generation run: the fake backend, no cache, best of 3.

    PYTHONPATH=. python bench/run_skeleton_overhead.py 200    # 9 prompts x 200 samples
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from credo.generators import generate_corpus
from credo.generators.fake_backend import FakeBackend
from credo.generators.run_options import GenerateOptions

SPEC = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny"


def main(samples: int) -> None:
    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            os.environ["CREDO_HOME"] = f"{folder}/home"
            started = time.perf_counter()
            result = generate_corpus(
                SPEC,
                Path(folder) / "corpus",
                options=GenerateOptions(samples=samples, use_cache=False),
                backend=FakeBackend("t"),
                progress=False,
            )
            times.append(time.perf_counter() - started)
    records = result.manifest["counts"]["records"]
    print(f"{records} records, best of 3: {min(times):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
