"""Answers/s through ``FidelityDetector.verdict`` on the labelled answers (docs/fidelity-card.md).

    .venv/bin/python bench/fidelity_speed.py [--fresh]

Best of three passes after a warm-up, the rules alone and with the learned layer. Reads the
study's text from ../shared/real-outputs (without it, fewer answers are timed: it says how many).
The detectors remember what they read of each answer and sentence (as in an audit, where a
corpus repeats them), so later passes over the same answers are flattered; ``--fresh`` builds
new detectors for every pass and reports CPU seconds too, the figure to compare trees by.
"""

from __future__ import annotations

import argparse
import time

from credo.filters.fidelity import FidelityConfig, FidelityDetector, shipped_profiles
from credo.filters.fidelity_eval import load_labelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="new detectors for every pass")
    args = parser.parse_args()
    rows, _ = load_labelled()
    profiles = shipped_profiles()
    for learned in (False, True):
        config = FidelityConfig(learned=learned)

        def build(config: FidelityConfig = config) -> dict[str, FidelityDetector]:
            return {n: FidelityDetector(p, profiles, config) for n, p in profiles.items()}

        detectors = build()
        for r in rows[:50]:
            detectors[r.worldview].verdict(r.response, r.prompt)
        best, best_cpu = 0.0, 0.0
        for _ in range(3):
            if args.fresh:
                detectors = build()
            start, cpu = time.perf_counter(), time.process_time()
            for r in rows:
                detectors[r.worldview].verdict(r.response, r.prompt)
            best = max(best, len(rows) / (time.perf_counter() - start))
            best_cpu = max(best_cpu, len(rows) / (time.process_time() - cpu))
        print(
            f"{'learned' if learned else 'rules'}: {len(rows)} answers, {best:.0f} answers/s"
            + (f", {best_cpu:.0f} answers per CPU-second" if args.fresh else "")
        )


if __name__ == "__main__":
    main()
