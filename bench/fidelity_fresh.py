"""Answers labelled after the detector was frozen, scored once: a check nobody tuned on.

    .venv/bin/python bench/fidelity_fresh.py --ids bench/fidelity_fresh_ids_mistral.json
    .venv/bin/python bench/fidelity_fresh.py --ids bench/fidelity_fresh_ids_smollm2.json

The ids (all of one source) were labelled by reading, with the detector's design fixed and
before it saw them. Scored three ways: the learned layer fitted without their source (the
protocol's fold), the shipped weights of that moment, and the rules alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from credo.filters.fidelity import FidelityConfig, FidelityDetector, shipped_profiles
from credo.filters.fidelity_eval import load_labelled, score_source
from credo.filters.fidelity_train import fit_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=Path, required=True, help="JSON list of the fresh ids")
    ids = set(json.loads(parser.parse_args().ids.read_text(encoding="utf-8")))
    rows, skipped = load_labelled()
    fresh = [r for r in rows if r.id in ids]
    sources = {r.source for r in fresh}
    if skipped or len(fresh) != len(ids) or len(sources) != 1:
        raise SystemExit(f"need every fresh id's text and one source (skipped: {skipped})")
    (source,) = sources
    gold = [r.faithful for r in fresh]
    profiles = shipped_profiles()

    def detector_calls(learned: bool) -> list[bool]:
        config = FidelityConfig(learned=learned)
        found = {n: FidelityDetector(p, profiles, config) for n, p in profiles.items()}
        return [found[r.worldview].verdict(r.response, r.prompt).faithful for r in fresh]

    fold = fit_rows([r for r in rows if r.source != source])
    out = {
        "source": source,
        "rows": len(fresh),
        "left_out_fold": score_source(source, gold, fold(fresh)).to_json(),
        "shipped_weights": score_source(source, gold, detector_calls(True)).to_json(),
        "rules": score_source(source, gold, detector_calls(False)).to_json(),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
