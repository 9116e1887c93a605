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
from credo.filters.base import AuditContext, Batched, Corpus, Finding, response_head
from credo.filters.minhash import MinHashConfig, band_keys, signatures
from credo.filters.report import CheckReport, Table
from credo.filters.spec import CheckSpec
from credo.filters.spill import Spill, SpilledRows, in_memory, set_rows
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
    return column_pairs(keys[:, band] for band in range(keys.shape[1]))


def column_pairs(columns: Iterable[np.ndarray]) -> np.ndarray:
    """Unique ``(i, j)`` pairs, i < j, of rows sharing a key in one of ``columns`` (one band
    each, read one at a time: a spilled partial never holds more than a band in memory)."""
    pairs = []
    for col in columns:
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
    """Kept index -> [(removed index, best score to a cluster member)].

    Union-find runs over the rows that are in some pair only (numbered in corpus order, so
    the earliest row of a cluster still roots it): its memory follows the pairs, not ``n``."""
    nodes, local = np.unique(pairs, return_inverse=True)
    local = local.reshape(-1, 2)
    uf = UnionFind(len(nodes))
    best: dict[int, float] = {}
    for (a, b), score in zip(local.tolist(), scores.tolist()):
        uf.union(a, b)
        best[b] = max(best.get(b, 0.0), score)
        best[a] = max(best.get(a, 0.0), score)
    clusters: dict[int, list[tuple[int, float]]] = {}
    row = nodes.tolist()
    for node, score in best.items():
        root = uf.find(node)
        if root != node:
            clusters.setdefault(row[root], []).append((row[node], score))
    return clusters


# Clusters whose texts the section keeps for the reports (kept record and its closest copy):
# enough to judge the check by eye, without a million records' texts in report.json.
SHOWN_CLUSTERS = 50
TEXT_CHARS = 2000
LISTED_CLUSTERS = (
    1000  # clusters listed in the section, largest first (flags.jsonl has every member)
)
LISTED_MEMBERS = 100  # members listed per cluster
ONE_CLUSTER_SHARE = 0.5  # a cluster holding this share of the corpus is reported as a collapse


def _report(
    check: str, corpus: Corpus, clusters: dict, ctx: AuditContext, params: dict
) -> Iterator[Finding]:
    """A finding per removed record; the section summarises clusters (size, exemplar, spread)
    instead of materialising them, so one cluster of a million members costs a few lines."""
    ids = corpus.ids
    summaries = []
    for kept, removed in clusters.items():
        members = sorted(removed)
        for index, score in members:
            yield Finding(ids[index], check, {"kept": ids[kept], "score": round(score, 4)})
        scores = [s for _, s in members]
        summaries.append((len(members) + 1, kept, members, min(scores), max(scores)))
    summaries.sort(key=lambda c: (-c[0], c[1]))
    listed = [
        {
            "kept": ids[kept],
            "size": size,
            "removed": [ids[i] for i, _ in members[:LISTED_MEMBERS]],
            "scores": [round(s, 4) for _, s in members[:LISTED_MEMBERS]],
            "spread": [round(low, 4), round(high, 4)],  # lowest and highest link score
        }
        for size, kept, members, low, high in summaries[:LISTED_CLUSTERS]
    ]
    largest = summaries[0][0] if summaries else 0
    shown = summaries[:SHOWN_CLUSTERS]
    closest = [max(members, key=lambda m: m[1])[0] for _, _, members, _, _ in shown]
    wanted = sorted({kept for _, kept, *_ in shown} | set(closest))
    texts = {i: record.text for i, record in corpus.fetch(wanted).items()} if wanted else {}
    for entry, (_, kept, *_), copy in zip(listed, shown, closest):
        entry["texts"] = {"kept": texts[kept][:TEXT_CHARS], ids[copy]: texts[copy][:TEXT_CHARS]}
    ctx.sections[check] = {
        "params": params,
        "clusters": listed,
        "cluster_count": len(summaries),
        "clusters_listed": len(listed),
        "largest_cluster": largest,
        # A corpus that is mostly one cluster is a diversity failure more than a dedup finding.
        "one_big_cluster": bool(ids) and largest >= ONE_CLUSTER_SHARE * len(ids),
        "removed": sum(size - 1 for size, *_ in summaries),
    }


def config_params(config: Any) -> dict[str, Any]:
    """A check's report parameters: its config, spelt out and field by field."""
    return {"config": str(config), **asdict(config)}


@dataclass
class NearDuplicateCheck(Batched):
    """MinHash LSH over word shingles of prompt + answer; pairs verified on signatures.

    A batch's partial is its band keys and the low 16 bits of each signature slot (what
    verification compares: two different 32-bit values agree there once in 65,536 slots),
    so a million records keep 384 MB, not their texts.
    """

    config: MinHashConfig = field(default_factory=MinHashConfig)
    name: str = "near_duplicate"

    def params(self) -> dict[str, Any]:
        return config_params(self.config)

    def map_batch(
        self, records: Sequence[Record], ctx: AuditContext
    ) -> tuple[np.ndarray, np.ndarray]:
        sigs = signatures([r.text for r in records], self.config)
        return band_keys(sigs, self.config), sigs.astype(np.uint16)

    def combine(self, a: Any, b: tuple[np.ndarray, np.ndarray]) -> Spill:
        """Batches' partials appended on disk, in corpus order (one file per band, so the
        reduce reads a band at a time; the signatures in one file, gathered per pair)."""
        spill = a if isinstance(a, Spill) else self.combine(Spill(), a)
        keys, sigs = b
        for band in range(keys.shape[1]):
            spill.column(f"band{band}", 1, np.uint64).add(keys[:, band])
        spill.column("sigs", self.config.num_perm, np.uint16).add(sigs)
        return spill

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        folded = fold(self, parts)
        if isinstance(folded, Spill):
            bands = (folded.columns[f"band{b}"].read()[:, 0] for b in range(self.config.bands))
            pairs = column_pairs(bands)
            yield from self.verified(pairs, folded.columns["sigs"], corpus, ctx)
            folded.close()
            return
        keys, sigs = folded if folded is not None else (np.zeros((0, self.config.bands)), None)
        yield from self.verified(bucket_pairs(keys), sigs, corpus, ctx)

    def verified(
        self, pairs: np.ndarray, sigs: Any, corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        """Findings from candidate pairs checked on the (16-bit) signatures (in memory or
        spilled: then gathered a chunk of pairs at a time)."""
        scores = np.zeros(len(pairs))
        step = 8192 if isinstance(sigs, SpilledRows) else 65536  # bounded temporaries
        for start in range(0, len(pairs), step):
            chunk = pairs[start : start + step]
            scores[start : start + len(chunk)] = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(
                axis=1
            )
        keep = scores >= self.config.threshold
        clusters = clusters_from_pairs(len(corpus.ids), pairs[keep], scores[keep])
        yield from _report(self.name, corpus, clusters=clusters, ctx=ctx, params=self.params())


@dataclass(frozen=True)
class SemanticConfig:
    """Mean cosine of prompt and answer-head embeddings.

    With ``fast`` the static model reads every record and proposes pairs; MiniLM reads only
    the records of those pairs and keeps pairs at ``threshold``. Without it MiniLM reads
    everything. Static vectors of one corpus share a large common direction (mean-pooled
    token vectors of any English text look alike: on 20k records of random real sentences,
    116k raw pairs sit above 0.9), so past ``centre_min_rows`` rows the corpus mean is taken
    away before comparing: the same corpus then has 267 pairs above 0.9, 200 of them the
    planted copies (BENCHMARKS.md, issue 25). Fewer rows estimate that mean too poorly (in a
    corpus of two copies it *is* the copies), so small corpora keep the raw thresholds.
    """

    threshold: float = 0.95
    block: int = 2048
    fast: bool = True
    # Centred static cosine proposing pairs for MiniLM: recall 0.95+ of million_synth's planted
    # paraphrases (MiniLM >= 0.95), 1.0 of one-word copies in real text.
    candidate_threshold: float = 0.85
    ann: AnnConfig = field(default_factory=AnnConfig)
    confirm: bool = True  # False: static pairs at static_threshold are the decision (no MiniLM)
    # Centred static cosine deciding alone: a screening pass (one-word copies: recall 1.0 and
    # 200 of 201 flags right on real text; paraphrases: lower recall, BENCHMARKS.md).
    static_threshold: float = 0.95
    centre: bool = True
    centre_min_rows: int = 1000
    raw_candidate_threshold: float = 0.85  # uncentred, below centre_min_rows
    raw_static_threshold: float = 0.9
    # Records MiniLM may read to confirm: ``confirm_rows`` plus ``confirm_share`` of the corpus.
    # A redundant corpus (a mode-collapsed teacher) proposes a candidate for nearly every
    # record; past the budget the best-scored candidates are confirmed and the rest are left
    # to the static decision, so the confirm stage costs by corpus size, not by redundancy.
    confirm_rows: int = 2000
    confirm_share: float = 0.01
    # A second candidate route, for copies whose questions are reworded: the question weighs
    # half the pair vector, so a synonym form of a short question alone pulls a paraphrase
    # under candidate_threshold (3.4-3.75% of million_synth's planted paraphrases at every
    # size, their answer heads at centred cosine 0.94-1.0). Pairs whose centred answer-head
    # vectors reach head_threshold, and whose pair vectors reach head_floor (templated
    # answers, such as refusals, share heads under different questions), join the candidates:
    # MiniLM confirms them as any other. Only with a confirm stage and centred vectors.
    head_route: bool = True
    head_threshold: float = 0.92
    head_floor: float = 0.7
    # Heads that close are rarely split by a border: one clustering, two lists a row.
    head_ann: AnnConfig = field(default_factory=lambda: AnnConfig(probes=2, rounds=1))

    def __str__(self) -> str:
        centre = f"_centred>={self.centre_min_rows}" if self.centre else ""
        if self.fast and not self.confirm:
            return f"static_cos{self.static_threshold:g}{centre}_{self.ann}"
        stage = f"_static{self.candidate_threshold:g}{centre}_{self.ann}" if self.fast else ""
        if self.fast and self.head_route:
            stage += f"_head{self.head_threshold:g}_floor{self.head_floor:g}_{self.head_ann}"
        return f"minilm_cos{self.threshold:g}_blk{self.block}{stage}"

    def heads_kept(self) -> bool:
        """Whether the map keeps each record's answer-head vector for the head route."""
        return self.fast and self.confirm and self.head_route

    def confirm_budget(self, rows: int) -> int:
        return self.confirm_rows + int(self.confirm_share * rows)

    def static_thresholds(self, centred: bool) -> tuple[float, float]:
        """(candidate, decide-alone) static cosines for centred or raw vectors."""
        if centred:
            return self.candidate_threshold, self.static_threshold
        return self.raw_candidate_threshold, self.raw_static_threshold


def centre_rows(vectors: Any, block: int = 65536) -> None:
    """Take the rows' mean away from every row and renormalise, in place and a block at a time
    (a million float16 rows widened to float32 at once would double the partials' memory);
    ``vectors`` is an array or a spilled column."""
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for start in range(0, len(vectors), block):
        total += vectors[start : start + block].astype(np.float32).sum(axis=0)
    mean = (total / max(len(vectors), 1)).astype(np.float32)
    for start in range(0, len(vectors), block):
        rows = vectors[start : start + block].astype(np.float32) - mean
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        set_rows(vectors, start, rows)


def fold(check: Any, parts: Iterable[tuple[int, Any]]) -> Any:
    """The check's partials as one: a single batch's as it came, several through
    ``check.combine`` (the engines have already folded them so; ``run`` passes one)."""
    folded = None
    for _, part in parts:
        folded = part if folded is None else check.combine(folded, part)
    return folded


def pair_vectors(embedder: Any, records: Sequence[Record]) -> np.ndarray:
    """One normalised vector per record: prompt and answer head, averaged."""
    return pair_and_head_vectors(embedder, records)[0]


def pair_and_head_vectors(
    embedder: Any, records: Sequence[Record]
) -> tuple[np.ndarray, np.ndarray]:
    """``pair_vectors`` and the answer heads' own vectors, from the same two encodings."""
    prompts = embedder.encode([r.prompt for r in records])
    heads = embedder.encode([response_head(r) for r in records])
    vectors = prompts + heads
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors, heads


# A batch's semantic partial: its pair vectors, or those and its answer heads' vectors.
SemanticPartial = np.ndarray | tuple[np.ndarray, np.ndarray]


@dataclass
class SemanticDuplicateCheck(Batched):
    """A batch's partial is one vector per record (static, float16, in the fast path: 512 bytes
    a record, and as much again for the answer heads' vectors of the head route); the reduce
    finds pairs over all of them and, in the fast path, reads back only the candidate records
    for MiniLM to confirm."""

    config: SemanticConfig = field(default_factory=SemanticConfig)
    name: str = "semantic_duplicate"

    def params(self) -> dict[str, Any]:
        return config_params(self.config)

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> SemanticPartial:
        """Pair vectors, with the answer heads' vectors beside them for the head route."""
        if not self.config.fast:
            return pair_vectors(ctx.get_embedder(), records)
        vectors, heads = pair_and_head_vectors(ctx.get_static(), records)
        if self.config.heads_kept():
            return vectors.astype(np.float16), heads.astype(np.float16)
        return vectors.astype(np.float16)

    def combine(self, a: Any, b: SemanticPartial) -> Spill:
        """Batches' vectors (and heads) appended to files on disk, in corpus order."""
        spill = a if isinstance(a, Spill) else self.combine(Spill(), a)
        vectors, heads = b if isinstance(b, tuple) else (b, None)
        spill.column("vectors", vectors.shape[1], vectors.dtype).add(vectors)
        if heads is not None:
            spill.column("heads", heads.shape[1], heads.dtype).add(heads)
        return spill

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        folded = fold(self, parts)
        vectors: Any
        heads: Any = None
        if isinstance(folded, Spill):
            vectors, heads = folded.columns["vectors"], folded.columns.get("heads")
        elif folded is None:
            vectors = np.zeros((0, 0), np.float32)
        else:
            vectors, heads = folded if isinstance(folded, tuple) else (folded, None)
            vectors = np.array(vectors)  # a copy: centring writes in place
            heads = None if heads is None else np.array(heads)
        pairs, scores, stages = self.pairs(vectors, corpus, ctx, heads=heads)
        if isinstance(folded, Spill):
            folded.close()
        del vectors, heads
        clusters = clusters_from_pairs(len(corpus.ids), pairs, scores)
        yield from _report(
            self.name, corpus, clusters=clusters, ctx=ctx, params={**self.params(), **stages}
        )

    def pairs(
        self, vectors: np.ndarray, corpus: Corpus, ctx: AuditContext, *, heads: Any = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Kept pairs, their cosines (MiniLM's where it confirmed, else the static one), and
        what each stage did: candidate pairs (those the head route added among them), pairs
        the static stage decided, pairs MiniLM read, and candidates left unconfirmed past the
        confirm budget."""
        cfg = self.config
        if not cfg.fast:
            pairs, scores = ann.exact_pairs(
                in_memory(vectors, np.float32), cfg.threshold, cfg.block, cfg.ann.max_neighbours
            )
            return pairs, scores, {"candidate_pairs": None}
        centred = cfg.centre and len(vectors) >= cfg.centre_min_rows
        if centred:
            centre_rows(vectors)
        candidate_threshold, static_threshold = cfg.static_thresholds(centred)
        if not cfg.confirm:
            pairs, scores = ann.similar_pairs(vectors, static_threshold, cfg.ann)
            return pairs, scores, {"candidate_pairs": len(pairs)}
        cand, static_scores = ann.similar_pairs(vectors, candidate_threshold, cfg.ann)
        by_head = np.zeros((0, 2), dtype=np.int64)
        if centred and heads is not None and cfg.heads_kept():
            by_head, head_scores = head_route_pairs(vectors, heads, found=cand, config=cfg)
            cand = np.concatenate([cand, by_head])
            static_scores = np.concatenate([static_scores, head_scores])
        # Either stage's near-identity decides: MiniLM at 0.95 rejects 8 of 200 one-word copies
        # of short real answers that the centred static cosine puts above 0.966 (BENCHMARKS.md),
        # so those pairs need no MiniLM at all.
        decided = centred & (static_scores >= static_threshold)
        ask = confirm_within(cand, static_scores, ~decided, cfg.confirm_budget(len(vectors)))
        scores = static_scores.astype(float)
        if ask.any():
            rows = np.unique(cand[ask])
            fetched = corpus.fetch(rows.tolist())
            confirmed = pair_vectors(ctx.get_embedder(), [fetched[i] for i in rows.tolist()])
            a = np.searchsorted(rows, cand[ask, 0])
            b = np.searchsorted(rows, cand[ask, 1])
            scores[ask] = np.einsum("ij,ij->i", confirmed[a], confirmed[b])
        keep = decided | (ask & (scores >= cfg.threshold))
        stages = {
            "candidate_pairs": len(cand),
            "head_route_pairs": len(by_head),
            "candidate_records": len(np.unique(cand)),
            "static_decided_pairs": int(decided.sum()),
            "confirmed_pairs": int(ask.sum()),
            "confirm_budget_rows": cfg.confirm_budget(len(vectors)),
            "unconfirmed_pairs": int((~decided & ~ask).sum()),
        }
        return cand[keep], scores[keep], stages


def head_route_pairs(
    vectors: Any, heads: Any, *, found: np.ndarray, config: SemanticConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose centred answer-head vectors reach ``config.head_threshold``, not among the
    ``found`` pairs, with their centred pair-vector cosines where those reach
    ``config.head_floor``. ``vectors`` are centred already; ``heads`` (an array or a spilled
    column) are centred here, in place."""
    centre_rows(heads)
    pairs, _ = ann.similar_pairs(heads, config.head_threshold, config.head_ann)
    rows = max(len(vectors), 1)
    pairs = pairs[~np.isin(pairs[:, 0] * rows + pairs[:, 1], found[:, 0] * rows + found[:, 1])]
    scores = np.zeros(len(pairs))
    step = 8192  # bounded gathers (a spilled column reads rows through a memory map)
    for start in range(0, len(pairs), step):
        chunk = pairs[start : start + step]
        left = np.asarray(vectors[chunk[:, 0]], dtype=np.float32)
        right = np.asarray(vectors[chunk[:, 1]], dtype=np.float32)
        scores[start : start + len(chunk)] = np.einsum("ij,ij->i", left, right)
    keep = scores >= config.head_floor
    return pairs[keep], scores[keep]


def confirm_within(
    pairs: np.ndarray, scores: np.ndarray, open_: np.ndarray, budget: int
) -> np.ndarray:
    """A mask of the ``open_`` pairs MiniLM confirms when it may read at most ``budget`` rows:
    pairs best static score first, as long as their rows fit; a later pair whose two rows were
    read anyway is confirmed too (it costs nothing)."""
    ask = np.zeros(len(pairs), dtype=bool)
    which = np.flatnonzero(open_)
    if not len(which):
        return ask
    which = which[np.argsort(-scores[which], kind="stable")]
    flat = pairs[which].reshape(-1)  # rows in the order they would be read
    rows, first = np.unique(flat, return_index=True)
    if len(rows) <= budget:
        ask[which] = True
        return ask
    cutoff = np.sort(first)[budget - 1] if budget > 0 else -1  # last position still read
    read = first <= cutoff  # per distinct row
    pos = np.searchsorted(rows, flat).reshape(-1, 2)
    ask[which[read[pos[:, 0]] & read[pos[:, 1]]]] = True
    return ask


def cluster_table(report: CheckReport) -> list[Table]:
    """One row per cluster, largest first: the kept record beside its closest copy, texts side
    by side, the cluster's size and the spread of its link scores."""
    section = report.section
    clusters = section.get("clusters", [])
    rows = []
    for c in clusters:
        texts = c.get("texts", {})
        copies = [k for k in texts if k != "kept"]
        closest = copies[0] if copies else c["removed"][c["scores"].index(max(c["scores"]))]
        rows.append(
            [
                c["kept"],
                closest,
                max(c["scores"]),
                c.get("size", len(c["removed"]) + 1) - 1,
                texts.get("kept", ""),
                texts.get(closest, ""),
            ]
        )
    title = report.name.replace("_", " ").capitalize()
    total = section.get("cluster_count", len(clusters))
    summary = f"{total} clusters, {section.get('removed', 0)} records removed"
    if section.get("one_big_cluster"):
        summary += (
            f"; one cluster holds {section['largest_cluster']} records, most of the corpus: "
            "a collapsed teacher (a diversity failure), not a few copies"
        )
    params = section.get("params", {})
    if params.get("unconfirmed_pairs"):
        summary += (
            f"; the static stage proposed {params['candidate_records']} records, more than MiniLM's "
            f"budget of {params['confirm_budget_rows']}: {params['unconfirmed_pairs']} candidate "
            "pairs were not confirmed (a redundant corpus: see the diversity tables)"
        )
    return [
        Table(
            f"{title} clusters",
            ["kept", "closest copy", "score", "copies", "kept text", "copy text"],
            rows,
            summary,
            compare=(4, 5),
        )
    ]


CHECKS = (
    CheckSpec(
        "near_duplicate",
        NearDuplicateCheck,
        gate=False,
        drops=True,
        order=50,
        summary="records whose prompt and answer repeat another's (MinHash Jaccard)",
        tables=cluster_table,
    ),
    CheckSpec(
        "semantic_duplicate",
        SemanticDuplicateCheck,
        gate=False,
        drops=True,
        embedding="required",
        order=60,
        summary="records that say what another says in other words (embedding cosine)",
        tables=cluster_table,
    ),
)
