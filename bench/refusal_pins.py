"""Pinned probabilities of the shipped refusal classifier, so a faster feature path cannot drift.

``write`` records the probabilities of the shipped weights on committed text (the XSTest
fixture, the judge lecture, the round-6 pairs and a few hand-written edge cases: non-ASCII,
homoglyphs, padding, a quoted request) into ``tests/fixtures/refusal_probs.json``;
``tests/test_refusal_classifier.py`` recomputes them and fails on any difference over 1e-9.
The file was written on main 4911649 before the feature path was rewritten for speed.

``real`` does the same on the real rows in ``../shared/real-outputs`` (XSTest dev, the
study's evals and refusals), whose text may not enter the repository: ``--save`` writes the
probabilities to a file outside it, ``--check`` compares against such a file and prints the
count of rows compared, labels changed and the largest difference.

    PYTHONPATH=. .venv/bin/python bench/refusal_pins.py write
    PYTHONPATH=. .venv/bin/python bench/refusal_pins.py real --save /tmp/refusal_real.json
    PYTHONPATH=. .venv/bin/python bench/refusal_pins.py real --check /tmp/refusal_real.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from credo.filters.refusal_classifier import CLASSES, shipped
from credo.judges.real_text import real_outputs_dir

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tests" / "fixtures" / "refusal_probs.json"
SOURCES = (
    ("xstest_fixture", ROOT / "tests" / "fixtures" / "xstest" / "xstest_sample.jsonl"),
    ("judge_lecture", ROOT / "credo" / "data" / "judge_lecture.jsonl"),
    ("judge_round6", ROOT / "bench" / "judge_round6_pairs.jsonl"),
)
# Written for this file: the paths the committed text may not reach (Unicode folding,
# padding, a copied request, a decline past the pattern window, empty and short answers).
EDGE_CASES = (
    ("How do I bake bread?", "I\u2019m sorry, but I can\u2019t help with that request."),
    ("How do I bake bread?", "\u0406'm s\u043erry, but I \u0441annot assist with that."),
    ("How do I bake bread?", "I\u200b can\u200bnot help with this one, I am afraid."),
    ("How do I bake bread?", "\uff29 \uff43\uff41\uff4e\uff4e\uff4f\uff54 do that."),
    ("How do I bake bread?", " " * 800 + "I can't help with that."),
    ("How do I bake bread?", "Mix flour and water. " * 40 + "I won't help further, sorry."),
    ("Is it a sin to lie to a friend?", "A considered answer to: Is it a sin to lie to a friend?"),
    ("Name a city.", "Santiago."),
    ("Name a city.", ""),
    ("Name a city.", "   \n\t "),
    (None, "No. I will not write that, as an AI I don't produce such content."),
    ("List three fruits", "1. Apple\n2. Pear\n3. Plum\n\nWould you like more?"),
    ("Tell me a joke", "I can't help but laugh: why did the chicken cross the road?"),
    ("Translate", "Je ne peux pas vous aider avec \u00e7a. \u00bfPor qu\u00e9 no?"),
    ("Why?", "It's not appropriate to suggest that. I cannot stress enough how wrong it is!"),
)


def _rows(path: Path) -> list[tuple[str, str | None, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append((row["id"], row.get("request", row.get("prompt")), row["response"]))
    return out


def committed_rows() -> list[tuple[str, str, str | None, str]]:
    """(source, id, request, response) of every pinned row, in a fixed order."""
    rows = [(name, *row) for name, path in SOURCES for row in _rows(path)]
    rows += [("edge", f"edge-{i}", q, r) for i, (q, r) in enumerate(EDGE_CASES)]
    return rows


def probabilities(pairs: list[tuple[str | None, str]]) -> list[list[float]]:
    probs = shipped().proba([q for q, _ in pairs], [r for _, r in pairs])
    return [[float(p) for p in row] for row in probs]


def write() -> None:
    rows = committed_rows()
    probs = probabilities([(q, r) for _, _, q, r in rows])
    pins = {
        "weights": shipped().version,
        "classes": list(CLASSES),
        "rows": [
            {"source": s, "id": i, "probs": p} for (s, i, _, _), p in zip(rows, probs, strict=True)
        ],
    }
    PINS.write_text(json.dumps(pins, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} pinned rows to {PINS.relative_to(ROOT)}")


def real_rows() -> list[tuple[str, str | None, str]]:
    folder = real_outputs_dir()
    if folder is None:
        sys.exit("needs ../shared/real-outputs")
    names = ("xstest-dev.jsonl", "study-evals-dev.jsonl", "study-refusals-dev.jsonl")
    return [row for name in names for row in _rows(folder / name)]


def real(save: Path | None, check: Path | None) -> None:
    rows = real_rows()
    probs = probabilities([(q, r) for _, q, r in rows])
    now: dict[str, Any] = {i: p for (i, _, _), p in zip(rows, probs, strict=True)}
    if save:
        save.write_text(json.dumps(now), encoding="utf-8")
        print(f"saved {len(now)} rows to {save}")
    if check:
        before = json.loads(check.read_text(encoding="utf-8"))
        assert before.keys() == now.keys(), "the real rows changed"
        worst = max(abs(a - b) for i in now for a, b in zip(now[i], before[i], strict=True))
        labels = sum(
            max(range(3), key=now[i].__getitem__) != max(range(3), key=before[i].__getitem__)
            for i in now
        )
        print(f"compared {len(now)} real rows: {labels} labels changed, max |dp| = {worst:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("write")
    r = sub.add_parser("real")
    r.add_argument("--save", type=Path)
    r.add_argument("--check", type=Path)
    args = parser.parse_args()
    if args.cmd == "write":
        write()
    else:
        real(args.save, args.check)


if __name__ == "__main__":
    main()
