"""Answers/s through ``FidelityDetector.verdict`` on the labelled answers (docs/fidelity-card.md).

    .venv/bin/python bench/fidelity_speed.py

Best of three passes after a warm-up, the rules alone and with the learned layer. Reads the
study's text from ../shared/real-outputs (without it, fewer answers are timed: it says how many).
"""

from __future__ import annotations

import time

from credo.filters.fidelity import FidelityConfig, FidelityDetector, shipped_profiles
from credo.filters.fidelity_eval import load_labelled


def main() -> None:
    rows, _ = load_labelled()
    profiles = shipped_profiles()
    for learned in (False, True):
        config = FidelityConfig(learned=learned)
        detectors = {n: FidelityDetector(p, profiles, config) for n, p in profiles.items()}
        for r in rows[:50]:
            detectors[r.worldview].verdict(r.response, r.prompt)
        best = 0.0
        for _ in range(3):
            start = time.perf_counter()
            for r in rows:
                detectors[r.worldview].verdict(r.response, r.prompt)
            best = max(best, len(rows) / (time.perf_counter() - start))
        print(f"{'learned' if learned else 'rules'}: {len(rows)} answers, {best:.0f} answers/s")


if __name__ == "__main__":
    main()
