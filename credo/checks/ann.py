"""All pairs of vectors above a cosine: exact in row blocks for small corpora, an HNSW index beyond.

Exact search costs n^2/2 dot products: fine at 10k rows, hours at a million. Past
``exact_max`` rows the pairs come from each row's ``k`` nearest neighbours in a faiss HNSW
graph (inner product on L2-normalised rows, i.e. cosine); ``bench/audit_scale.py`` reports
its recall against the exact search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from credo.errors import missing_dependency


@dataclass(frozen=True)
class AnnConfig:
    exact_max: int = 100_000  # rows up to which the exact blocked search runs
    block: int = 2048  # rows per block of the exact search
    k: int = 16  # neighbours asked of the HNSW graph per row
    m: int = 16  # HNSW links per node
    ef_construction: int = 64
    ef_search: int = 64

    def __str__(self) -> str:
        return f"exact<={self.exact_max}_hnsw_k{self.k}_m{self.m}_efc{self.ef_construction}_efs{self.ef_search}"


def exact_pairs(vectors: np.ndarray, threshold: float, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """All ``i < j`` with cosine >= threshold, by blocked matrix products."""
    found_pairs, found_scores = [], []
    n = len(vectors)
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors[start:].T
        rows, cols = np.nonzero(sims >= threshold)
        upper = cols > rows  # cols are offset by start like rows: same test
        found_pairs.append(np.stack([rows[upper] + start, cols[upper] + start], axis=1))
        found_scores.append(sims[rows[upper], cols[upper]])
    if not found_pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    return np.concatenate(found_pairs).astype(np.int64), np.concatenate(found_scores).astype(float)


def hnsw_pairs(vectors: np.ndarray, threshold: float, config: AnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """Pairs above ``threshold`` among each row's ``k`` approximate nearest neighbours."""
    try:
        import faiss
    except ImportError as exc:
        raise missing_dependency("faiss-cpu", "semantic dedup beyond the exact-search size") from exc
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexHNSWFlat(vectors.shape[1], config.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = config.ef_construction
    index.hnsw.efSearch = max(config.ef_search, config.k)
    index.add(vectors)
    found_pairs, found_scores = [], []
    for start in range(0, len(vectors), 65536):  # bounded result arrays
        scores, ids = index.search(vectors[start : start + 65536], config.k)
        rows = np.arange(start, start + len(ids))[:, None].repeat(config.k, axis=1)
        keep = (scores >= threshold) & (ids >= 0) & (ids != rows)
        pairs = np.sort(np.stack([rows[keep], ids[keep]], axis=1), axis=1)
        found_pairs.append(pairs)
        found_scores.append(scores[keep])
    pairs, scores = np.concatenate(found_pairs), np.concatenate(found_scores).astype(float)
    pairs, first = np.unique(pairs, axis=0, return_index=True)  # (i, j) found from both ends
    return pairs.astype(np.int64), scores[first]


def similar_pairs(vectors: np.ndarray, threshold: float, config: AnnConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs, cosines)``, each pair ``i < j``: exact up to ``exact_max`` rows, HNSW beyond."""
    config = config or AnnConfig()
    if len(vectors) <= config.exact_max:
        return exact_pairs(vectors, threshold, config.block)
    return hnsw_pairs(vectors, threshold, config)
