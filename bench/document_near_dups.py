"""Near-duplicate rejection while generating documents: seconds per accepted document as the
corpus grows (random 400-word documents, so every check is a miss: the worst case).

    nice -n 10 python bench/document_near_dups.py --docs 2000
"""

from __future__ import annotations

import argparse
import random
import time

from credo.generators.documents import NearDuplicates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--words", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(5000)]
    docs = [" ".join(rng.choice(vocab) for _ in range(args.words)) for _ in range(args.docs)]
    index = NearDuplicates(0.6)
    started = time.perf_counter()
    for doc in docs:
        index.closest(doc)
        index.add(doc)
    seconds = time.perf_counter() - started
    print(
        f"{args.docs} documents x {args.words} words: {seconds:.2f} s "
        f"({1000 * seconds / args.docs:.2f} ms per document)"
    )


if __name__ == "__main__":
    main()
