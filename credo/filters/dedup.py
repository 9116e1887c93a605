"""Near-duplicate (MinHash LSH) and semantic (embedding cosine) dedup, with explanations.

Both run as explicit stages: signatures or embeddings -> candidate pairs -> verified pairs
-> clusters (union-find) -> one kept record per cluster (the first in corpus order) and a
finding for every other member naming the record it duplicates and the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from credo.filters import ann
from credo.filters.ann import AnnConfig
from credo.filters.base import AuditContext, Corpus, Finding, response_head, run_batched
from credo.filters.minhash import MinHashConfig, band_keys, signatures
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
    return bucket_pairs(band_keys(sigs, config))


def bucket_pairs(keys: np.ndarray) -> np.ndarray:
    """Unique ``(i, j)`` pairs, i < j, of rows sharing a key in some column of ``keys`` (rows, bands)."""
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
    allp = np.sort(np.concatenate(pairs), axis=1)
    return np.unique(allp[allp[:, 0] != allp[:, 1]], axis=0).astype(np.int64)


class Rows:
    """Per-batch arrays stacked into one at the end, freeing each batch as it is copied: the
    peak is the result plus one batch, not twice the result."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []

    def add(self, part: np.ndarray) -> None:
        self.parts.append(part)

    def stack(self, width: int, dtype: Any) -> np.ndarray:
        out = np.empty((sum(len(p) for p in self.parts), width), dtype=dtype)
        at = 0
        while self.parts:
            part = self.parts.pop(0)
            out[at : at + len(part)] = part
            at += len(part)
        return out


def clusters_from_pairs(
    n: int, pairs: np.ndarray, scores: np.ndarray
) -> dict[int, list[tuple[int, float]]]:
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


def _report(
    check: str, ids: Sequence[str], clusters: dict, ctx: AuditContext, params: dict
) -> Iterator[Finding]:
    listed = []
    for kept, removed in sorted(clusters.items()):
        members = sorted(removed)
        listed.append(
            {
                "kept": ids[kept],
                "removed": [ids[i] for i, _ in members],
                "scores": [round(s, 4) for _, s in members],
            }
        )
        for index, score in members:
            yield Finding(ids[index], check, {"kept": ids[kept], "score": round(score, 4)})
    ctx.sections[check] = {
        "params": params,
        "clusters": listed,
        "removed": sum(len(c["removed"]) for c in listed),
    }


@dataclass
class NearDuplicateCheck:
    """MinHash LSH over word shingles of prompt + answer; pairs verified on signatures.

    A batch's partial is its band keys and the low 16 bits of each signature slot (what
    verification compares: two different 32-bit values agree there once in 65,536 slots),
    so a million records keep 384 MB, not their texts.
    """

    config: MinHashConfig = field(default_factory=MinHashConfig)
    name: str = "near_duplicate"

    def params(self) -> dict[str, Any]:
        return {"config": str(self.config), **asdict(self.config)}

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        return run_batched(self, records, ctx)

    def map_batch(
        self, records: Sequence[Record], ctx: AuditContext
    ) -> tuple[np.ndarray, np.ndarray]:
        sigs = signatures([r.text for r in records], self.config)
        return band_keys(sigs, self.config), sigs.astype(np.uint16)

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        keys, sigs = Rows(), Rows()
        for _, (part_keys, part_sigs) in parts:
            keys.add(part_keys)
            sigs.add(part_sigs)
        pairs = bucket_pairs(keys.stack(self.config.bands, np.uint64))
        yield from self.verified(
            pairs, sigs.stack(self.config.num_perm, np.uint16), corpus.ids, ctx
        )

    def verified(
        self, pairs: np.ndarray, sigs: np.ndarray, ids: Sequence[str], ctx: AuditContext
    ) -> Iterator[Finding]:
        """Findings from candidate pairs checked on the (16-bit) signatures."""
        scores = np.zeros(len(pairs))
        for start in range(0, len(pairs), 65536):  # bounded temporaries
            chunk = pairs[start : start + 65536]
            scores[start : start + len(chunk)] = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(
                axis=1
            )
        keep = scores >= self.config.threshold
        clusters = clusters_from_pairs(len(ids), pairs[keep], scores[keep])
        yield from _report(self.name, ids, clusters=clusters, ctx=ctx, params=self.params())


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
    candidate_threshold: float = (
        0.85  # static cosine; recall 1.0 of MiniLM-only pairs (BENCHMARKS.md)
    )
    ann: AnnConfig = field(default_factory=AnnConfig)
    confirm: bool = True  # False: static pairs at static_threshold are the decision (no MiniLM)
    static_threshold: float = 0.9  # static cosine standing in for MiniLM's 0.95 (BENCHMARKS.md)

    def __str__(self) -> str:
        if self.fast and not self.confirm:
            return f"static_cos{self.static_threshold:g}_{self.ann}"
        stage = f"_static{self.candidate_threshold:g}_{self.ann}" if self.fast else ""
        return f"minilm_cos{self.threshold:g}_blk{self.block}{stage}"


def pair_vectors(embedder: Any, records: Sequence[Record]) -> np.ndarray:
    """One normalised vector per record: prompt and answer head, averaged."""
    vectors = embedder.encode([r.prompt for r in records]) + embedder.encode(
        [response_head(r) for r in records]
    )
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


@dataclass
class SemanticDuplicateCheck:
    """A batch's partial is one vector per record (static, float16, in the fast path: 512 bytes
    a record); the reduce finds pairs over all of them and, in the fast path, reads back only
    the candidate records for MiniLM to confirm."""

    config: SemanticConfig = field(default_factory=SemanticConfig)
    name: str = "semantic_duplicate"

    def params(self) -> dict[str, Any]:
        return {"config": str(self.config), **asdict(self.config)}

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        return run_batched(self, records, ctx)

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> np.ndarray:
        if self.config.fast:
            return pair_vectors(ctx.get_static(), records).astype(np.float16)
        return pair_vectors(ctx.get_embedder(), records)

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        rows, width, dtype = Rows(), 0, np.float32
        for _, vectors in parts:
            rows.add(vectors)
            width, dtype = vectors.shape[1], vectors.dtype
        vectors = rows.stack(width, dtype)
        pairs, scores, candidates = self.pairs(vectors, corpus, ctx)
        del vectors
        clusters = clusters_from_pairs(len(corpus.ids), pairs, scores)
        yield from _report(
            self.name,
            corpus.ids,
            clusters=clusters,
            ctx=ctx,
            params={**self.params(), "candidate_pairs": candidates},
        )

    def pairs(
        self, vectors: np.ndarray, corpus: Corpus, ctx: AuditContext
    ) -> tuple[np.ndarray, np.ndarray, int | None]:
        """Confirmed pairs, their MiniLM cosines, and how many candidates the static stage gave."""
        cfg = self.config
        if not cfg.fast:
            return (*ann.exact_pairs(vectors, cfg.threshold, cfg.block), None)
        if not cfg.confirm:
            pairs, scores = ann.similar_pairs(vectors, cfg.static_threshold, cfg.ann)
            return pairs, scores, len(pairs)
        cand, _ = ann.similar_pairs(vectors, cfg.candidate_threshold, cfg.ann)
        if not len(cand):
            return cand, np.zeros(0), 0
        rows = np.unique(cand)
        fetched = corpus.fetch(rows.tolist())
        confirmed = pair_vectors(ctx.get_embedder(), [fetched[i] for i in rows.tolist()])
        a, b = np.searchsorted(rows, cand[:, 0]), np.searchsorted(rows, cand[:, 1])
        scores = np.einsum("ij,ij->i", confirmed[a], confirmed[b]).astype(float)
        keep = scores >= cfg.threshold
        return cand[keep], scores[keep], len(cand)
