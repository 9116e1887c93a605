"""Benchmark ``credo view --serve`` on a million-record folder: index build, then filtered pages.

Writes synthetic records under /tmp (never in the repo): a 12-word question and a 40-word
answer each, 5% flagged by ``refusal`` and 1% by ``structure`` in ``flags.jsonl``, 2% labelled
by a judge. Builds the SQLite index once (timed), starts the server on a free port and times
each request over HTTP (the median of 5, after one warm-up), as the browser would send it.

    .venv/bin/python bench/viewer_serve.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

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
    "pebble",
    "spirit",
    "rye",
    "loaf",
    "mill",
    "river",
    "stone",
    "lantern",
    "festival",
    "elder",
]


def make_folder(folder: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    with (
        (folder / "records.jsonl").open("w") as records,
        (folder / "flags.jsonl").open("w") as flags,
    ):
        for i in range(n):
            rid = f"b2:{i:032x}"
            row = {
                "id": rid,
                "messages": [
                    {
                        "role": "user",
                        "content": "What does Gramenism teach about "
                        + " ".join(rng.choices(WORDS, k=6))
                        + "?",
                    },
                    {"role": "assistant", "content": " ".join(rng.choices(WORDS, k=40))},
                ],
                "meta": {"set": "gramenism", "persona_id": "elder", "seed": 0},
            }
            if i % 50 == 0:
                row["labels"] = {"offline": {"label": "REFUSAL", "rationale": "pattern"}}
            records.write(json.dumps(row) + "\n")
            details = {}
            if i % 20 == 0:
                details["refusal"] = {"pattern": "I cannot", "score": 0.9}
            if i % 100 == 7:
                details["structure"] = {"markers": ["User:"], "formats": ["plain role line"]}
            if details:
                flags.write(
                    json.dumps({"id": rid, "checks": sorted(details), "details": details}) + "\n"
                )


QUERIES = {
    "first page, no filter": "",
    "check=refusal": "check=refusal",
    "check=structure, page 50": "check=structure&offset=5000",
    "no flag, offset 500,000": "check=-&offset=500000",
    "no flag, after record 500,000": "check=-&after=500000",
    "label=REFUSAL": "label=REFUSAL",
    "search 'lantern festival'": "q=lantern%20festival",
    "search 'lant'": "q=lant",
    "search 'pebb' + check=refusal": "q=pebb&check=refusal",
}


def timed(url: str, repeat: int = 5) -> tuple[float, dict]:
    times, body = [], {}
    for attempt in range(repeat + 1):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            body = json.loads(response.read())
        if attempt:  # the first is a warm-up
            times.append(time.perf_counter() - start)
    return statistics.median(times), body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    from credo.reports.view_server import serve_index

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CREDO_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "corpus"
        start = time.perf_counter()
        make_folder(folder, args.n)
        size = (folder / "records.jsonl").stat().st_size
        print(
            f"wrote {args.n:,} records ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s"
        )
        start = time.perf_counter()
        server = serve_index(folder, port=0)
        index_mb = server.index.path.stat().st_size / 1e6
        print(f"index built in {time.perf_counter() - start:.0f} s ({index_mb:.0f} MB)")
        start = time.perf_counter()
        server.index.close()
        server.server_close()
        server = serve_index(folder, port=0)  # the second start reuses the index
        print(f"restart (index reused) in {time.perf_counter() - start:.2f} s")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = server.url + "api/records?"
        try:
            for name, query in QUERIES.items():
                seconds, page = timed(base + query)
                print(
                    f"{name:32s} {seconds * 1000:7.0f} ms  total {page['total']:>9,}  rows {len(page['items'])}"
                )
            middle = f"b2:{args.n // 2:032x}"
            seconds, page = timed(base + "q=" + middle)
            print(
                f"{'search an id (the middle one)':32s} {seconds * 1000:7.0f} ms  total {page['total']:>9,}"
            )
            first = timed(base)[1]["items"][0]["id"]
            seconds, _ = timed(server.url + "api/record?id=" + first)
            print(f"{'one record':32s} {seconds * 1000:7.0f} ms")
        finally:
            server.shutdown()
            server.server_close()
            server.index.close()


if __name__ == "__main__":
    main()
