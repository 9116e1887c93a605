"""All pairs of vectors above a cosine: exact in row blocks for small corpora, blocking beyond.

Exact search costs n^2/2 dot products: fine at 10k rows, hours at a million. From
``probe_min`` to ``exact_max`` rows an inverted file replaces it (:func:`probe_pairs`): each
row is filed under its nearest k-means centroid and compared with the rows filed under its
``probe_lists`` nearest ones, about n x ``probe_list_rows`` x ``probe_lists`` products, with
recall 1.0 of the exact pairs on the 100k real-sentence corpus and 0.995-1.0 on templated
text (BENCHMARKS.md). Past
``exact_max`` rows the rows are blocked by k-means (``method="kmeans"``, the default): each
row joins the lists of its ``probes`` nearest centroids, and the exact blocked search runs
inside each list, so the work is sum(list size^2), about n x ``list_rows`` x probes^2, and
every step is a matrix product. Two rows above a high cosine are near each other, so they
share a nearest centroid unless they sit on a border, which the second probe covers. A faiss
HNSW graph (each row's ``k`` nearest neighbours) is the other method. ``bench/audit_scale.py``
reports both against the exact search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from credo.errors import missing_dependency
from credo.filters.spill import in_memory


@dataclass(frozen=True)
class AnnConfig:
    exact_max: int = 100_000  # rows up to which the exact (or inverted-file) search runs
    # From this many rows up to exact_max the inverted file (probe_pairs) replaces the exact
    # search, whose n^2 / 2 scan is most of the semantic stage's time at 100k rows.
    probe_min: int = 20_000
    probe_list_rows: int = 300  # rows filed under each inverted-file list on average
    probe_lists: int = 8  # lists each row is compared with (its home list first)
    block: int = 2048  # rows per block of the exact search
    k: int = 16  # neighbours asked of the HNSW graph per row
    m: int = 16  # HNSW links per node
    ef_construction: int = 64
    ef_search: int = 64
    method: str = "kmeans"  # or "hnsw"
    list_rows: int = 500  # rows per k-means list on average
    probes: int = 3  # lists each row joins
    iterations: int = 8  # k-means rounds on the sample
    rounds: int = (
        2  # independent clusterings whose pairs are joined (recall 0.96 at 1M, BENCHMARKS.md)
    )
    # Past this many rows, one more round each time the rows double (see rounds_for).
    rounds_rows: int = 1_000_000
    seed: int = 0
    # Links kept per row (see exact_pairs): bounds a one-big-cluster corpus by size, not redundancy.
    max_neighbours: int | None = 16  # None: every pair
    sample_max: int = (
        262_144  # rows the k-means centroids are fitted on (~40 per list below 6.5M rows)
    )
    # The exact search first bounds every pair's cosine from a projection onto this many
    # principal directions (see exact_pairs); 0 turns the bound off. Findings are the same.
    filter_dims: int = 32

    def rounds_for(self, rows: int) -> int:
        """Clusterings joined for ``rows`` rows: ``rounds`` up to ``rounds_rows``, then one
        more per doubling. Lists hold ``list_rows`` rows whatever the corpus, so more rows make
        more lists, and a border splits more of the pairs a fixed number of rounds would find:
        on million_synth two rounds put 0.995 of the qualifying planted paraphrases in a shared
        list at 300k rows, 0.986 at 1M and ~0.981 at 3M; four rounds at 1M give 0.995 back
        (BENCHMARKS.md, "Paraphrase recall at 3M"). Up to ``rounds_rows`` nothing changes."""
        if rows <= self.rounds_rows:
            return self.rounds
        return self.rounds + math.ceil(math.log2(rows / self.rounds_rows))

    def __str__(self) -> str:
        probe = f"_ivf>={self.probe_min}_l{self.probe_list_rows}_p{self.probe_lists}"
        if self.probe_min > self.exact_max:
            probe = ""
        return self._beyond(f"exact<={self.exact_max}{probe}")

    def _beyond(self, exact: str) -> str:
        if self.method == "kmeans":
            return (
                f"{exact}_kmeans_l{self.list_rows}_p{self.probes}_i{self.iterations}_r{self.rounds}"
            )
        return f"{exact}_hnsw_k{self.k}_m{self.m}_efc{self.ef_construction}_efs{self.ef_search}"


def exact_pairs(
    vectors: np.ndarray,
    threshold: float,
    block: int = 2048,
    max_neighbours: int | None = None,
    filter_dims: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """All ``i < j`` with cosine >= threshold, by blocked matrix products.

    With ``max_neighbours`` each row keeps only its nearest that many partners among the rows
    after it, plus one link to its best partner before it when none was kept otherwise: union-find
    needs a spanning set of links, not every pair, so a corpus that is one big cluster (a
    mode-collapsed teacher) costs about rows x k pairs instead of rows^2 / 2, and every row
    with a partner above the threshold still gets at least one link.

    With ``filter_dims`` (and enough rows for it to pay) a cheap upper bound of every pair's
    cosine, from ``filter_dims`` principal directions (:func:`_projected_bound`), picks the
    pairs that can reach the threshold at all; only those pairs' cosines are computed. The
    bound never falls below the cosine, so the pairs are those of the full search.
    """
    found_pairs, found_scores = [], []
    n = len(vectors)
    linked = np.zeros(n, dtype=bool)
    block = max(1, min(block, (1 << 25) // max(n, 1)))  # a block's similarity matrix stays ~128 MB
    bound = _projected_bound(vectors, filter_dims) if filter_dims else None
    for start in range(0, n, block):
        stop = min(start + block, n)
        # (rows, cols, cosines) of the block's pairs above the threshold, both offset by start
        hits = (
            None
            if bound is None
            else _bounded_hits(vectors, bound, start, stop, threshold=threshold)
        )
        if hits is None:
            bound = None  # a low threshold: the bound lets most rows through, so it only costs
            sims = vectors[start:stop] @ vectors[start:].T
            rows, cols = np.nonzero(sims >= threshold)
            upper = cols > rows  # cols are offset by start like rows: same test
            rows, cols = rows[upper], cols[upper]
            scores = sims[rows, cols]
        else:
            rows, cols, scores = hits
        if max_neighbours is not None and len(rows) > max_neighbours:
            keep = _capped_links(
                rows,
                cols,
                scores,
                start=start,
                height=stop - start,
                k=max_neighbours,
                linked=linked,
            )
            rows, cols, scores = rows[keep], cols[keep], scores[keep]
        found_pairs.append(np.stack([rows + start, cols + start], axis=1))
        found_scores.append(scores)
    if not found_pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    return np.concatenate(found_pairs).astype(np.int64), np.concatenate(found_scores).astype(float)


# The bound is computed in float32 like the cosines: a margin for its rounding (it only lets
# a few more rows through to the full products, never changes a pair).
FILTER_SLACK = 1e-3
FILTER_MIN_ROWS = 4096  # below this the full products cost less than fitting the projection
FILTER_GIVE_UP = 0.25  # share of a block's rows with a candidate past which it is dropped
FILTER_TILE = 8192  # columns per bound product: the tile stays in cache-sized pieces


def _projected_bound(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Row and column factors whose product bounds every cosine from above (``None`` when too
    few rows or dimensions for it to pay).

    Split each row into its part ``p`` in the top ``dims`` principal directions and the rest
    ``q``. Then ``u.v = pu.pv + qu.qv <= pu.pv + (|qu|^2 + |qv|^2) / 2`` (Cauchy-Schwarz, then
    the mean of two numbers is at least their geometric mean), which is the product of
    ``[pu, |qu|^2 / 2, 1]`` and ``[pv, 1, |qv|^2 / 2]``: a matrix product ``dims + 2`` wide
    instead of the full width. On centred static vectors (256 wide) 32 directions leave about
    one row in eight with any candidate at cosine 0.95, and 0.2 candidates a row.
    """
    n, width = vectors.shape
    if n < FILTER_MIN_ROWS or width <= 2 * dims:
        return None
    sample = vectors[:: max(1, n // 65536)]  # the principal directions of a 65k-row sample
    _, basis = np.linalg.eigh((sample.T @ sample).astype(np.float64))
    basis = basis[:, ::-1][:, :dims].astype(np.float32)  # eigh sorts ascending
    projected = vectors @ basis
    rest = np.maximum((vectors * vectors).sum(axis=1) - (projected * projected).sum(axis=1), 0)
    half = (rest / 2).astype(np.float32)[:, None]
    ones = np.ones_like(half)
    return np.hstack([projected, half, ones]), np.hstack([projected, ones, half])


def _bounded_hits(
    vectors: np.ndarray,
    bound: tuple[np.ndarray, np.ndarray],
    start: int,
    stop: int,
    *,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The block ``start:stop``'s pairs with a later row at ``threshold`` or above, as
    ``(rows, cols, cosines)`` offset by ``start`` and in np.nonzero's order (what the full
    search gives): the bound picks the candidates, their cosines are computed one pair at a
    time. ``None`` when more than ``FILTER_GIVE_UP`` of the rows have a candidate."""
    left, right = bound
    found_rows, found_cols = [], []
    for col in range(start, len(right), FILTER_TILE):
        tile = left[start:stop] @ right[col : col + FILTER_TILE].T
        if col < stop:  # the tile holds the block's own rows: only later columns count
            rows = np.arange(start, stop)[:, None]
            tile[np.arange(col, col + tile.shape[1])[None, :] <= rows] = -np.inf
        reaching = np.flatnonzero(tile.max(axis=1) >= threshold - FILTER_SLACK)
        if len(reaching):
            local, cols = np.nonzero(tile[reaching] >= threshold - FILTER_SLACK)
            found_rows.append(reaching[local])
            found_cols.append(cols + col - start)
    rows = np.concatenate(found_rows) if found_rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(found_cols) if found_cols else np.zeros(0, dtype=np.int64)
    if len(np.unique(rows)) > (stop - start) * FILTER_GIVE_UP:
        return None
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    scores = np.einsum("ij,ij->i", vectors[rows + start], vectors[cols + start])
    hit = scores >= threshold
    return rows[hit], cols[hit], scores[hit]


def _capped_links(
    rows: np.ndarray,
    cols: np.ndarray,
    scores: np.ndarray,
    *,
    start: int,
    height: int,
    k: int,
    linked: np.ndarray,
) -> np.ndarray:
    """A mask over pairs ``(rows, cols)`` (offset by ``start``, ``rows`` ascending and below
    ``height``) keeping each row's ``k`` nearest, plus, for a column left with no link (in
    ``linked``, which it updates), its best partner."""
    keep = _nearest_per_row(scores, rows, height, k)
    linked[rows[keep] + start] = True
    linked[cols[keep] + start] = True
    orphan = ~keep & ~linked[cols + start]
    if orphan.any():  # a column whose partners all sit in full rows: its best one
        order = np.lexsort((-scores[orphan], cols[orphan]))
        first = np.concatenate([[True], np.diff(cols[orphan][order]) != 0])
        keep[np.flatnonzero(orphan)[order[first]]] = True
        linked[cols[keep] + start] = True
    return keep


def _nearest_per_row(scores: np.ndarray, rows: np.ndarray, height: int, k: int) -> np.ndarray:
    """A mask over the hits (``rows`` ascending, as np.nonzero gives them; ``scores`` their
    cosines) keeping each row's ``k`` of highest similarity."""
    keep = np.ones(len(rows), dtype=bool)
    counts = np.bincount(rows, minlength=height)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for row in np.flatnonzero(counts > k):
        lo, hi = starts[row], starts[row] + counts[row]
        drop = np.argpartition(-scores[lo:hi], k)[k:]
        keep[lo + drop] = False
    return keep


def hnsw_pairs(
    vectors: np.ndarray, threshold: float, config: AnnConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs above ``threshold`` among each row's ``k`` approximate nearest neighbours."""
    try:
        import faiss
    except ImportError as exc:
        raise missing_dependency(
            "faiss-cpu", "semantic dedup beyond the exact-search size"
        ) from exc
    vectors = np.ascontiguousarray(in_memory(vectors), dtype=np.float32)
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


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _nearest_lists(
    vectors: np.ndarray, centroids: np.ndarray, probes: int, mean: np.ndarray | None = None
) -> np.ndarray:
    """Each row's ``probes`` nearest centroids, nearest first (by inner product, after taking
    away ``mean``), in row blocks."""
    out = np.empty((len(vectors), probes), dtype=np.int32)  # list numbers: half of int64's memory
    block = max(1, (1 << 22) // max(1, len(centroids)))  # rows x lists stays ~16 MB per temporary
    for start in range(0, len(vectors), block):
        rows = np.asarray(vectors[start : start + block], dtype=np.float32)
        sims = (_unit(rows - mean) if mean is not None else rows) @ centroids.T
        if probes == 1:
            out[start : start + len(sims), 0] = sims.argmax(axis=1)
        else:
            top = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
            order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
            out[start : start + len(sims)] = np.take_along_axis(top, order, axis=1)
    return out


def _fit_lists(
    vectors: np.ndarray, lists: int, config: AnnConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(centroids, mean)``: spherical k-means with ``lists`` centroids on a sample of rows,
    around the sample's mean direction."""
    n = len(vectors)
    # ~40 rows per list, at most sample_max rows: at ten million rows 40 per list would be
    # 800k float32 rows (820 MB) held for the clustering alone.
    size = min(n, lists * 40, max(config.sample_max, lists))
    sample = np.asarray(vectors[np.sort(rng.choice(n, size=size, replace=False))], dtype=np.float32)
    # Clustered around the sample's mean direction (texts of one corpus share a large common
    # component). Measured at 1M: recall the same as without it (0.895 vs 0.897, one round);
    # the figures in BENCHMARKS.md were taken with it.
    mean = sample.mean(axis=0)
    # In place: at 262k sampled rows each float32 copy is 268 MB, and ``_unit(sample - mean)``
    # held three at once (the same values, BENCHMARKS.md "What grows with the corpus").
    sample -= mean
    sample /= np.maximum(np.linalg.norm(sample, axis=1, keepdims=True), 1e-12)
    centroids = sample[rng.choice(len(sample), size=lists, replace=False)].copy()
    for _ in range(config.iterations):  # spherical k-means on a sample: ~40 rows per list
        assign = _nearest_lists(sample, centroids, 1)[:, 0]
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = np.where(
            norms > 0, sums / np.maximum(norms, 1e-12), centroids
        )  # an empty list keeps its centroid
    return centroids, mean


def kmeans_pairs(
    vectors: np.ndarray, threshold: float, config: AnnConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs above ``threshold`` among rows that share one of their ``probes`` nearest k-means
    lists, in any of ``config.rounds_for(rows)`` independent clusterings (a pair split by one
    border is rarely split by the next: the union of rounds is what multiple hash tables are
    to LSH). Each round's seed is ``seed + round``, so a larger corpus adds rounds to those a
    smaller one runs and finds a superset of their pairs."""
    found_pairs, found_scores = [], []
    rounds = config.rounds_for(len(vectors))
    for round_ in range(rounds):
        pairs, scores = _kmeans_round(vectors, threshold, config, config.seed + round_)
        found_pairs.append(pairs)
        found_scores.append(scores)
    pairs, scores = np.concatenate(found_pairs), np.concatenate(found_scores)
    if rounds > 1 and len(pairs):
        pairs, first = np.unique(pairs, axis=0, return_index=True)
        scores = scores[first]
    return pairs, scores


def _kmeans_round(
    vectors: np.ndarray, threshold: float, config: AnnConfig, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    n = len(vectors)
    lists = max(1, n // config.list_rows)
    probes = min(config.probes, lists)
    centroids, mean = _fit_lists(vectors, lists, config, np.random.default_rng(seed))
    member = _nearest_lists(vectors, centroids, probes, mean).reshape(-1)
    # The rows grouped by list: slot order // probes is the row of each (row, probe) slot, so
    # no row-number array and no sorted copy of ``member`` are made (36 bytes a row at the
    # peak instead of 72: 0.36 GB less at ten million rows, the same lists).
    order = np.argsort(member, kind="stable")
    bounds = np.cumsum(np.bincount(member, minlength=lists))[:-1]
    del member
    rows = (order // probes).astype(np.int32 if n < 2**31 else np.int64)
    del order
    found_pairs, found_scores = [], []
    for chunk in np.split(rows, bounds):
        if len(chunk) < 2:
            continue
        pairs, scores = exact_pairs(
            np.asarray(vectors[chunk], dtype=np.float32),
            threshold,
            min(config.block, 1024),
            config.max_neighbours,
        )
        found_pairs.append(
            chunk[pairs]
        )  # list positions -> corpus rows (chunk is sorted, so i < j holds)
        found_scores.append(scores)
    if not found_pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    pairs, scores = np.concatenate(found_pairs), np.concatenate(found_scores)
    pairs, first = np.unique(pairs, axis=0, return_index=True)  # a pair met in two shared lists
    return pairs.astype(np.int64), scores[first]


def probe_pairs(
    vectors: np.ndarray, threshold: float, config: AnnConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs above ``threshold`` by an inverted file: each row is filed under its nearest
    k-means centroid (its home list) and compared, one matrix product per list, with every row
    filed under its ``probe_lists`` nearest centroids.

    A pair is found when either row's home list is among the other's probed lists: two rows
    above a high cosine are nearly the same point, so a border splits them from only the nearest
    of the other's lists. The work is about n x ``probe_list_rows`` x ``probe_lists`` products
    instead of n^2 / 2. ``max_neighbours`` caps each row's links as in :func:`exact_pairs`: a
    row keeps its nearest that many among the rows it was compared with, and a row found only
    by others (all of whose finders kept nearer rows) keeps a link to its best finder.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    lists = max(1, n // config.probe_list_rows)
    centroids, mean = _fit_lists(vectors, lists, config, np.random.default_rng(config.seed))
    near = _nearest_lists(vectors, centroids, min(config.probe_lists, lists), mean)
    home = near[:, 0]
    filed = np.argsort(home, kind="stable")  # rows by home list, ascending within each
    filed_at = np.searchsorted(home[filed], np.arange(lists + 1))
    probed = np.argsort(near.reshape(-1), kind="stable")  # (row, probe) slots by list
    probed_at = np.searchsorted(near.reshape(-1)[probed], np.arange(lists + 1))
    probed //= near.shape[1]  # slot -> row, ascending within each list
    cap = config.max_neighbours
    best = np.full(n, -np.inf, dtype=np.float32)  # each row's best finder, for the orphan rule
    best_by = np.full(n, -1, dtype=np.int64)
    found_pairs, found_scores = [], []
    for lst in range(lists):
        members = filed[filed_at[lst] : filed_at[lst + 1]]
        queries = probed[probed_at[lst] : probed_at[lst + 1]]
        if not len(members) or not len(queries):
            continue
        columns = vectors[members].T
        step = max(1, (1 << 24) // len(members))  # a block's similarity matrix stays ~64 MB
        for start in range(0, len(queries), step):
            rows = queries[start : start + step]
            sims = vectors[rows] @ columns
            local, cols = np.nonzero(sims >= threshold)
            scores = sims[local, cols]
            other = rows[local] != members[cols]
            local, cols, scores = local[other], cols[other], scores[other]
            if cap is not None and len(local) > cap:
                _best_finder(best, best_by, found=members[cols], by=rows[local], scores=scores)
                keep = _nearest_per_row(scores, local, len(rows), cap)
                local, cols, scores = local[keep], cols[keep], scores[keep]
            found_pairs.append(np.stack([rows[local], members[cols]], axis=1))
            found_scores.append(scores)
    if cap is not None:  # rows found only as another's partner, then capped away
        pairs = np.concatenate(found_pairs) if found_pairs else np.zeros((0, 2), np.int64)
        linked = np.zeros(n, dtype=bool)
        linked[pairs.reshape(-1)] = True
        orphan = np.flatnonzero(~linked & (best_by >= 0))
        found_pairs.append(np.stack([orphan, best_by[orphan]], axis=1))
        found_scores.append(best[orphan])
    if not found_pairs:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    pairs = np.sort(np.concatenate(found_pairs), axis=1).astype(np.int64)
    scores = np.concatenate(found_scores).astype(float)
    pairs, first = np.unique(pairs, axis=0, return_index=True)  # a pair found from both ends
    scores = scores[first]
    if cap is not None and len(pairs) > cap:  # as exact_pairs keeps them: k later partners a row
        keep = _capped_links(
            pairs[:, 0], pairs[:, 1], scores, start=0, height=n, k=cap, linked=np.zeros(n, bool)
        )
        pairs, scores = pairs[keep], scores[keep]
    return pairs, scores


def _best_finder(
    best: np.ndarray, best_by: np.ndarray, *, found: np.ndarray, by: np.ndarray, scores: np.ndarray
) -> None:
    """Raise ``best[row]`` (and ``best_by[row]``, who found it) to each found row's best score."""
    order = np.lexsort((-scores, found))
    first = np.concatenate([[True], np.diff(found[order]) != 0])
    rows, by, scores = found[order][first], by[order][first], scores[order][first]
    better = scores > best[rows]
    best[rows[better]] = scores[better]
    best_by[rows[better]] = by[better]


def similar_pairs(
    vectors: np.ndarray, threshold: float, config: AnnConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs, cosines)``, each pair ``i < j``: exact below ``probe_min`` rows, by an inverted
    file up to ``exact_max``, blocked (or HNSW) beyond.

    ``vectors`` may be float16 (how the streamed audit stores them): they are widened to
    float32 a block at a time, never all at once past ``exact_max``.
    """
    config = config or AnnConfig()
    if config.probe_min <= len(vectors) <= config.exact_max:
        return probe_pairs(in_memory(vectors, np.float32), threshold, config)
    if len(vectors) <= config.exact_max:
        return exact_pairs(
            in_memory(vectors, np.float32),
            threshold,
            config.block,
            config.max_neighbours,
            filter_dims=config.filter_dims,
        )
    if config.method == "hnsw":
        return hnsw_pairs(vectors, threshold, config)
    return kmeans_pairs(vectors, threshold, config)
