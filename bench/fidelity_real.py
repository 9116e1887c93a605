"""Fidelity on real answers, one source left out at a time (protocol: docs/fidelity-card.md).

    .venv/bin/python bench/fidelity_real.py --detector rules     # the rule detector alone
    .venv/bin/python bench/fidelity_real.py --detector learned   # the shipped learned detector, retrained per fold

Reads the study's text from ../shared/real-outputs (sources without it are skipped and named).
"""

from __future__ import annotations

import argparse
import json

from credo.filters.fidelity import FidelityConfig, FidelityDetector, shipped_profiles
from credo.filters.fidelity_eval import Labelled, leave_one_source_out, load_labelled


def rules_predict(rows: list[Labelled]) -> list[bool]:
    profiles = shipped_profiles()
    rules = FidelityConfig(learned=False)  # the hand-written rules alone, as first scored
    detectors = {name: FidelityDetector(p, profiles, rules) for name, p in profiles.items()}
    return [detectors[r.worldview].verdict(r.response).faithful for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", choices=("rules", "learned"), default="learned")
    parser.add_argument("--no-written", action="store_true", help="leave credo's written set out")
    args = parser.parse_args()
    rows, skipped = load_labelled(written=not args.no_written)
    if args.detector == "rules":
        scores = leave_one_source_out(rows, predict=rules_predict)
    else:
        from credo.filters.fidelity_train import fit_rows

        scores = leave_one_source_out(rows, fit=fit_rows)
    out = {
        "detector": args.detector,
        "rows": len(rows),
        "skipped_sources": skipped,
        "meets_bar_everywhere": all(s.meets() for s in scores),
        "sources": [s.to_json() for s in scores],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
