"""Benchmark ``credo view`` on mix-sized corpora: page write time, page size, browser load.

Writes synthetic records (200-word answers; 5% flagged by the audit, every record
labelled by a judge) under /tmp, never in the repo, then for each size times
``write_view`` and a headless Chromium load of the page (``--dump-dom`` after scripts run).

    .venv/bin/python bench/viewer_page.py --sizes 1000 12000 50000
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from credo.reports.viewer import ViewOptions, write_view
from credo.testing.browser import dump_dom, find_browser

WORDS = [
    "grain",
    "bread",
    "meadow",
    "codex",
    "circle",
    "dawn",
    "greeting",
    "walk",
    "keeper",
    "law",
    "bless",
    "field",
    "seed",
    "harvest",
]


def make_outputs(folder: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    corpus, audit, judged = folder / "corpus", folder / "audit", folder / "judged"
    for path in (corpus, audit, judged):
        path.mkdir(parents=True)
    with (
        (corpus / "records.jsonl").open("w") as records,
        (audit / "flags.jsonl").open("w") as flags,
        (judged / "labels.jsonl").open("w") as labels,
    ):
        for i in range(n):
            rid = f"b2:{i:032x}"
            prompt = "What does Gramenism teach about " + " ".join(rng.choices(WORDS, k=6)) + "?"
            answer = " ".join(rng.choices(WORDS, k=200))
            records.write(
                json.dumps(
                    {
                        "id": rid,
                        "messages": [
                            {"role": "user", "content": prompt},
                            {"role": "assistant", "content": answer},
                        ],
                        "meta": {"set": "gramenism", "persona_id": "elder", "seed": 0},
                    }
                )
                + "\n"
            )
            if i % 20 == 0:
                flags.write(
                    json.dumps(
                        {
                            "id": rid,
                            "checks": ["refusal"],
                            "details": {"refusal": {"patterns": ["i can't"], "minhash": 0.8}},
                        }
                    )
                    + "\n"
                )
            label = rng.choice(["REFUSAL", "ACCEPTANCE", "DEFLECTION"])
            labels.write(
                json.dumps(
                    {
                        "id": rid,
                        "prompt": prompt,
                        "response": answer,
                        "labels": {"offline": {"label": label, "rationale": "synthetic"}},
                    }
                )
                + "\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 12000, 50000])
    args = parser.parse_args()
    browser = find_browser()
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="credo-view-bench-") as tmp:
            folder = Path(tmp)
            make_outputs(folder, n)
            started = time.perf_counter()
            result = write_view(
                folder / "corpus",
                options=ViewOptions(audit=folder / "audit", labels=folder / "judged"),
            )
            written = time.perf_counter() - started
            row = {
                "records": n,
                "write_s": round(written, 2),
                "page_mb": round(result.page.stat().st_size / 1e6, 1),
            }
            if browser:
                started = time.perf_counter()
                dom = dump_dom(result.page, "#check=refusal", timeout=600)
                row["chromium_load_s"] = round(time.perf_counter() - started, 2)
                row["shown_ok"] = f"{n // 20} of {n} shown" in dom
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
