"""Precision and recall of the refusal ensemble and of each part on the labelled set.

Honest splits: the ``dev`` split is what the patterns were written against, and the trained
parts (MinHash bank, embedding classifier) are scored out-of-fold (5-fold CV) there; the
``test`` split was written after the patterns were frozen, and every part is scored on it
with the bank and classifier built from ``dev`` only.

    .venv/bin/python bench/audit_refusal.py
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

from credo.filters.embed import Embedder
from credo.filters.refusal_detector import PARTS, RefusalConfig, RefusalDetector, load_labelled


def _metrics(pred: list[bool], gold: list[bool]) -> dict[str, float]:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    return {
        "n": len(gold),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "fp": fp,
        "fn": fn,
    }


# Parts are scored on every text (no skipping), so each part's figures are its own; the
# ensemble column uses the shipped config, which skips the classifier where it cannot matter.
EVERY_PART = RefusalConfig(embed_skip_decided=False, embed_cue_chars=0)


def _score(train, test, embedder):
    texts = [e.text for e in test]
    parts = RefusalDetector(EVERY_PART, bank=train, embedder=embedder).score(texts)
    shipped = RefusalDetector(bank=train, embedder=embedder).score(texts)
    return [replace(p, refusal=s.refusal) for p, s in zip(parts, shipped)]


def evaluate(folds: int = 5) -> dict[str, dict[str, dict[str, float]]]:
    data = load_labelled()
    dev = [e for e in data if e.split == "dev"]
    test = [e for e in data if e.split == "test"]
    embedder = Embedder()
    # Out-of-fold on dev: every dev text is scored by parts that never saw it.
    dev_scores = [None] * len(dev)
    for k in range(folds):
        held = [i for i in range(len(dev)) if i % folds == k]
        train = [e for i, e in enumerate(dev) if i % folds != k]
        for i, s in zip(held, _score(train, [dev[i] for i in held], embedder)):
            dev_scores[i] = s
    results = {"dev (patterns tuned here; other parts out-of-fold)": (dev, dev_scores)}
    if test:
        results["test (held out; bank = dev)"] = (test, _score(dev, test, embedder))
    fresh = [e for e in data if e.split == "fresh"]
    if fresh:  # written after the issue-10 rules were frozen; scored once
        results["fresh (held out after the rules were frozen; bank = dev)"] = (
            fresh,
            _score(dev, fresh, embedder),
        )
    report: dict[str, dict[str, dict[str, float]]] = {}
    for name, (items, scores) in results.items():
        gold = [e.is_refusal for e in items]
        report[name] = {part: _metrics([s.votes[part] for s in scores], gold) for part in PARTS}
        report[name]["ensemble"] = _metrics([s.refusal for s in scores], gold)
        errors = [
            (e.label, e.kind, e.text[:90])
            for e, s in zip(items, scores)
            if s.refusal != e.is_refusal
        ]
        report[name]["errors"] = errors  # type: ignore[assignment]
    return report


def main() -> None:
    start = time.perf_counter()
    report = evaluate()
    for split, parts in report.items():
        print(f"## {split}")
        print("| part | n | precision | recall | FP | FN |\n|---|---|---|---|---|---|")
        for part, m in parts.items():
            if part == "errors":
                continue
            print(
                f"| {part} | {m['n']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['fp']} | {m['fn']} |"
            )
        for err in parts["errors"]:
            print("  error:", err)
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    if "--json" in sys.argv:
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
