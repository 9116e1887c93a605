"""Why planted paraphrases are missed: each missed pair's stage, from a finished million_synth audit.

    nice -n 5 .venv/bin/python bench/paraphrase_misses.py /tmp/ms3000k /tmp/ms3000k_audit [--sample 100000]

Reads ``CORPUS/planted.json`` and ``AUDIT/flags.jsonl``; for every planted paraphrase whose
copy neither duplicate check flagged (and for as many caught ones, as a control) it reads the
two records back and computes what ``semantic_duplicate`` compared: the static model's pair
vectors, centred on the mean of ``--sample`` records spread over the corpus (the audit
centres on the whole corpus' mean: an estimate within ~0.005 of the cosine), and MiniLM's
cosine, which confirms. Each missed pair then falls in one stage:

- ``static_below_candidate``: centred static cosine < 0.85, and the head route does not
  propose it either (centred answer-head cosine < 0.92, or pair cosine < 0.7);
- ``minilm_rejects``: proposed (static 0.85-0.95, or by the head route) but MiniLM < 0.95,
  the confirm decides no;
- ``search_missed``: the pair qualifies (MiniLM >= 0.95 or static >= 0.95) and the candidate
  searches (k-means lists past 100k rows) did not return it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from credo.corpora.io import records_at
from credo.filters.base import AuditContext
from credo.filters.dedup import SemanticConfig, pair_and_head_vectors, pair_vectors

CANDIDATE, DECIDE, CONFIRM = (
    SemanticConfig().candidate_threshold,
    SemanticConfig().static_threshold,
    SemanticConfig().threshold,
)
HEAD, FLOOR = SemanticConfig().head_threshold, SemanticConfig().head_floor


def flagged(path: Path) -> set[str]:
    ids = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if '"near_duplicate"' in line or '"semantic_duplicate"' in line:
                row = json.loads(line)
                if {"near_duplicate", "semantic_duplicate"} & set(row["checks"]):
                    ids.add(row["id"])
    return ids


def stage(static: float, minilm: float, head: float) -> str:
    by_head = head >= HEAD and static >= FLOOR
    if static < CANDIDATE and not by_head:
        return "static_below_candidate"
    if static < DECIDE and minilm < CONFIRM:
        return "minilm_rejects"
    return "search_missed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("audit", type=Path)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    planted = json.loads((args.corpus / "planted.json").read_text())["paraphrase"]
    n = json.loads((args.corpus / "manifest.json").read_text())["records"]
    caught_ids = flagged(args.audit / "flags.jsonl")
    position = lambda rid: int(rid[1:])  # noqa: E731 (million_synth numbers its records in order)
    missed = [(s, c) for s, c in planted if c not in caught_ids]
    rng = np.random.default_rng(0)
    control = [
        planted[i] for i in rng.choice(len(planted), min(len(missed), len(planted)), replace=False)
    ]
    control = [(s, c) for s, c in control if c in caught_ids]
    sample = np.sort(rng.choice(n, min(args.sample, n), replace=False)).tolist()
    wanted = {position(r) for pair in missed + control for r in pair}
    records = records_at(args.corpus / "records.jsonl", sorted(wanted | set(sample)))
    ctx = AuditContext()
    means = [
        v.mean(axis=0)
        for v in pair_and_head_vectors(ctx.get_static(), [records[i] for i in sample])
    ]

    def cosines(pairs: list[tuple[str, str]]) -> list[tuple[float, float, float]]:
        rows = sorted({position(r) for pair in pairs for r in pair})
        at = {row: k for k, row in enumerate(rows)}
        static, heads = (
            v - mean
            for v, mean in zip(
                pair_and_head_vectors(ctx.get_static(), [records[r] for r in rows]), means
            )
        )
        static /= np.linalg.norm(static, axis=1, keepdims=True)
        heads /= np.linalg.norm(heads, axis=1, keepdims=True)
        minilm = pair_vectors(ctx.get_embedder(), [records[r] for r in rows])
        out = []
        for s, c in pairs:
            a, b = at[position(s)], at[position(c)]
            out.append(
                (
                    float(static[a] @ static[b]),
                    float(minilm[a] @ minilm[b]),
                    float(heads[a] @ heads[b]),
                )
            )
        return out

    result = {"records": n, "planted": len(planted), "missed_count": len(missed)}
    for name, pairs in (("missed", missed), ("caught", control)):
        if not pairs:  # nothing missed (so no control drawn either)
            result[name] = {"pairs": 0}
            continue
        values = cosines(pairs)
        stages = Counter(stage(s, m, h) for s, m, h in values)
        static = np.array([s for s, _, _ in values])
        minilm = np.array([m for _, m, _ in values])
        heads = np.array([h for _, _, h in values])
        result[name] = {
            "pairs": len(pairs),
            "stages": dict(stages) if name == "missed" else None,
            "static_cosine_p10_p50_p90": np.percentile(static, [10, 50, 90]).round(3).tolist(),
            "minilm_cosine_p10_p50_p90": np.percentile(minilm, [10, 50, 90]).round(3).tolist(),
            "head_cosine_p10_p50_p90": np.percentile(heads, [10, 50, 90]).round(3).tolist(),
            "static_ge_candidate": int((static >= CANDIDATE).sum()),
            "minilm_ge_confirm": int((minilm >= CONFIRM).sum()),
        }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
