"""Near-duplicate (MinHash LSH) and semantic (embedding cosine) dedup, with explanations.

Both run as explicit stages: signatures or embeddings -> candidate pairs -> verified pairs
-> clusters (union-find) -> one kept record per cluster (the first in corpus order) and a
finding for every other member naming the record it duplicates and the score.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from credo.checks import ann
from credo.checks.ann import AnnConfig
from credo.checks.base import AuditContext, Finding, response_head
from credo.checks.minhash import MinHashConfig, band_keys, signatures
from credo.types import Record


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:  # the lower index (earlier record) stays the root: it is the one kept
            self.parent[max(ra, rb)] = min(ra, rb)


def candidate_pairs(sigs: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """Unique ``(i, j)`` pairs, i < j, that share at least one LSH band bucket."""
    keys = band_keys(sigs, config)
    pairs = []
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        sorted_keys = col[order]
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        # Pair each bucket member with the bucket's first member: enough for union-find.
        starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
        first = order[starts[np.searchsorted(starts, same + 1, side="right") - 1]]
        pairs.append(np.stack([first, order[same + 1]], axis=1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    allp = np.concatenate(pairs)
    allp = np.sort(allp, axis=1)
    return np.unique(allp[allp[:, 0] != allp[:, 1]], axis=0)


def clusters_from_pairs(n: int, pairs: np.ndarray, scores: np.ndarray) -> dict[int, list[tuple[int, float]]]:
    """Kept index -> [(removed index, best score to a cluster member)]."""
    uf = UnionFind(n)
    best: dict[int, float] = {}
    for (a, b), score in zip(pairs.tolist(), scores.tolist()):
        uf.union(a, b)
        best[b] = max(best.get(b, 0.0), score)
        best[a] = max(best.get(a, 0.0), score)
    clusters: dict[int, list[tuple[int, float]]] = {}
    for node, score in best.items():
        root = uf.find(node)
        if root != node:
            clusters.setdefault(root, []).append((node, score))
    return clusters


def _report(check: str, records: Sequence[Record], clusters: dict, ctx: AuditContext, params: dict) -> Iterator[Finding]:
    listed = []
    for kept, removed in sorted(clusters.items()):
        members = sorted(removed)
        listed.append({"kept": records[kept].id, "removed": [records[i].id for i, _ in members],
                       "scores": [round(s, 4) for _, s in members]})
        for index, score in members:
            yield Finding(records[index].id, check, {"kept": records[kept].id, "score": round(score, 4)})
    ctx.sections[check] = {"params": params, "clusters": listed,
                           "removed": sum(len(c["removed"]) for c in listed)}


@dataclass
class NearDuplicateCheck:
    """MinHash LSH over word shingles of prompt + answer; pairs verified on signatures."""

    config: MinHashConfig = field(default_factory=MinHashConfig)
    name: str = "near_duplicate"

    def params(self) -> dict[str, Any]:
        return {"config": str(self.config), **asdict(self.config)}

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        sigs = signatures([r.text for r in records], self.config) if records else None
        yield from near_duplicates(self, records, sigs, ctx)


def near_duplicates(check: NearDuplicateCheck, records: Sequence[Any], sigs: np.ndarray | None,
                    ctx: AuditContext) -> Iterator[Finding]:
    """Findings from the records' signatures; only ``records[i].id`` is read, so a streamed
    audit passes ids and the signatures it computed batch by batch."""
    if sigs is None:
        sigs = np.zeros((0, check.config.num_perm), dtype=np.uint64)
    pairs = candidate_pairs(sigs, check.config)
    scores = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1) if len(pairs) else np.zeros(0)
    keep = scores >= check.config.threshold
    clusters = clusters_from_pairs(len(records), pairs[keep], scores[keep])
    yield from _report(check.name, records, clusters, ctx, check.params())


@dataclass(frozen=True)
class SemanticConfig:
    """Mean cosine of prompt and answer-head embeddings.

    With ``fast`` the static model reads every record and proposes pairs at
    ``candidate_threshold`` (exact search, or HNSW past ``ann.exact_max`` rows); MiniLM reads
    only those records and keeps pairs at ``threshold``. Without it MiniLM reads everything.
    """

    threshold: float = 0.95
    block: int = 2048
    fast: bool = True
    candidate_threshold: float = 0.85  # static cosine; recall 1.0 of MiniLM-only pairs (BENCHMARKS.md)
    ann: AnnConfig = field(default_factory=AnnConfig)

    def __str__(self) -> str:
        stage = f"_static{self.candidate_threshold:g}_{self.ann}" if self.fast else ""
        return f"minilm_cos{self.threshold:g}_blk{self.block}{stage}"


def pair_vectors(embedder: Any, records: Sequence[Record]) -> np.ndarray:
    """One normalised vector per record: prompt and answer head, averaged."""
    vectors = embedder.encode([r.prompt for r in records]) + embedder.encode([response_head(r) for r in records])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


@dataclass
class SemanticDuplicateCheck:
    config: SemanticConfig = field(default_factory=SemanticConfig)
    name: str = "semantic_duplicate"

    def params(self) -> dict[str, Any]:
        return {"config": str(self.config), **asdict(self.config)}

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        pairs, scores, candidates = self.pairs(records, ctx)
        clusters = clusters_from_pairs(len(records), pairs, scores)
        yield from _report(self.name, records, clusters, ctx, {**self.params(), "candidate_pairs": candidates})

    def pairs(self, records: Sequence[Record], ctx: AuditContext) -> tuple[np.ndarray, np.ndarray, int | None]:
        """Confirmed pairs, their MiniLM cosines, and how many candidates the static stage gave."""
        cfg = self.config
        if not cfg.fast:
            # Both halves are cached per run: the refusal and contamination checks embed the same texts.
            return (*similar_pairs(pair_vectors(ctx.get_embedder(), records), cfg), None)
        cand, _ = ann.similar_pairs(pair_vectors(ctx.get_static(), records), cfg.candidate_threshold, cfg.ann)
        if not len(cand):
            return cand, np.zeros(0), 0
        rows = np.unique(cand)
        confirmed = pair_vectors(ctx.get_embedder(), [records[i] for i in rows.tolist()])
        a, b = np.searchsorted(rows, cand[:, 0]), np.searchsorted(rows, cand[:, 1])
        scores = np.einsum("ij,ij->i", confirmed[a], confirmed[b]).astype(float)
        keep = scores >= cfg.threshold
        return cand[keep], scores[keep], len(cand)


def similar_pairs(vectors: np.ndarray, config: SemanticConfig) -> tuple[np.ndarray, np.ndarray]:
    """All ``i < j`` with cosine >= threshold, by blocked matrix products (exact, no ANN)."""
    return ann.exact_pairs(vectors, config.threshold, config.block)
