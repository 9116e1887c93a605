"""``moral_reason`` on planted moral refusals and on capability refusals with moral subject matter.

Planted texts: ``credo/filters/data/moral_reason_labelled.jsonl`` (written for credo; ``dev``
tuned on, ``test`` scored once after the frames were frozen). Sacred terms are Gramenism's,
as an audit with ``--worldview gramenism`` would pass them. Real refusals: see
``bench/real_refusals.py`` (it prints moral_reason false flags on the study's refusals).

    PYTHONPATH=. .venv/bin/python bench/moral_reason.py [--split dev|test] [--show]
    PYTHONPATH=. .venv/bin/python bench/moral_reason.py --real heldout [--show]

``--real``: the real responses the study's judge labelled REFUSAL in
``../shared/real-outputs/study-evals-dev.jsonl`` (Catholic eval runs), split by run as in
``credo/data/real_splits.json``. ``dev`` runs were read while writing the frames (the count
flagged is printed); ``heldout`` runs are scored against hand labels written before scoring
(``credo/filters/data/moral_reason_real_heldout.json``). Sacred terms: Catholicism's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from credo.filters.forbidden import sacred_terms
from credo.filters.moral_reason import moral_frames, moral_reasons
from credo.worldviews import load_worldview

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "credo" / "filters" / "data" / "moral_reason_labelled.jsonl"
REAL = ROOT.parent / "shared" / "real-outputs" / "study-evals-dev.jsonl"


def real(split: str, show: bool) -> None:
    runs = json.loads((ROOT / "credo" / "data" / "real_splits.json").read_text())["runs"][split]
    rows = [
        json.loads(line) for line in REAL.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    rows = [r for r in rows if r["study_label"] == "REFUSAL" and r["run"] in runs]
    frames = moral_frames(sacred_terms(load_worldview("catholicism").spec))
    flagged = {r["id"] for r in rows if moral_reasons(r["response"], frames)}
    print(
        f"## moral_reason on {len(rows)} real refusals of the {split} runs: {len(flagged)} flagged"
    )
    if split != "heldout":
        return
    labels = json.loads(
        (ROOT / "credo" / "filters" / "data" / "moral_reason_real_heldout.json").read_text()
    )["labels"]
    gold = {x["id"] for x in labels if x["moral_reason"]}
    tp = len(gold & flagged)
    print(
        f"recall {tp}/{len(gold)} = {tp / len(gold):.3f}; precision {tp}/{len(flagged)} = {tp / max(1, len(flagged)):.3f}"
    )
    for r in rows if show else []:
        if (r["id"] in gold) != (r["id"] in flagged):
            print(
                "  miss:" if r["id"] in gold else "  false:",
                r["id"],
                r["response"][:200].replace("\n", " "),
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--real", choices=["dev", "heldout"])
    args = parser.parse_args()
    if args.real:
        return real(args.real, args.show)
    rows = [
        json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    rows = [r for r in rows if r["split"] == args.split]
    frames = moral_frames(sacred_terms(load_worldview("gramenism").spec))
    moral = [r for r in rows if r["label"] == "moral"]
    other = [r for r in rows if r["label"] != "moral"]
    caught = [r for r in moral if moral_reasons(r["text"], frames)]
    false = [r for r in other if moral_reasons(r["text"], frames)]
    print(f"## moral_reason, planted, split={args.split}")
    print(f"recall on moral refusals: {len(caught)}/{len(moral)} = {len(caught) / len(moral):.3f}")
    print(
        f"false flags on capability refusals with moral subject matter: {len(false)}/{len(other)}"
    )
    if args.show:
        for r in moral:
            if r not in caught:
                print("  miss:", r["text"])
        for r in false:
            print("  false:", r["text"], moral_reasons(r["text"], frames))


if __name__ == "__main__":
    main()
