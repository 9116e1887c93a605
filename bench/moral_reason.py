"""``moral_reason`` on planted moral refusals and on capability refusals with moral subject matter.

Planted texts: ``credo/filters/data/moral_reason_labelled.jsonl`` (written for credo; ``dev``
tuned on, ``test`` scored once after the frames were frozen). Sacred terms are Gramenism's,
as an audit with ``--worldview gramenism`` would pass them. Real refusals: see
``bench/real_refusals.py`` (it prints moral_reason false flags on the study's refusals).

    PYTHONPATH=. .venv/bin/python bench/moral_reason.py [--split dev|test] [--show]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from credo.filters.forbidden import sacred_terms
from credo.filters.refusal_checks import moral_frames, moral_reasons
from credo.worldviews import load_worldview

DATA = Path(__file__).resolve().parents[1] / "credo" / "filters" / "data" / "moral_reason_labelled.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["split"] == args.split]
    frames = moral_frames(sacred_terms(load_worldview("gramenism").spec))
    moral = [r for r in rows if r["label"] == "moral"]
    other = [r for r in rows if r["label"] != "moral"]
    caught = [r for r in moral if moral_reasons(r["text"], frames)]
    false = [r for r in other if moral_reasons(r["text"], frames)]
    print(f"## moral_reason, planted, split={args.split}")
    print(f"recall on moral refusals: {len(caught)}/{len(moral)} = {len(caught) / len(moral):.3f}")
    print(f"false flags on capability refusals with moral subject matter: {len(false)}/{len(other)}")
    if args.show:
        for r in moral:
            if r not in caught:
                print("  miss:", r["text"])
        for r in false:
            print("  false:", r["text"], moral_reasons(r["text"], frames))


if __name__ == "__main__":
    main()
