"""The fast embedding path: static candidates confirmed by MiniLM, and the HNSW pair search.

The static model here is MiniLM's token table (see conftest); the distilled one is measured
in bench/audit_fast.py. Either way MiniLM decides, so the fast path must agree with MiniLM
alone on what the static stage lets through.
"""

from __future__ import annotations

import numpy as np
from test_audit_embedding_checks import EVALS, RECORDS, _rec

from credo.filters.ann import AnnConfig, exact_pairs, hnsw_pairs, kmeans_pairs, similar_pairs
from credo.filters.base import AuditContext
from credo.filters.contamination import ContaminationConfig, EvalContaminationCheck
from credo.filters.dedup import SemanticConfig, SemanticDuplicateCheck
from credo.filters.embed import Embedder, StaticEmbedder
from credo.filters.refusal_detector import RefusalConfig, RefusalDetector


def _planted_vectors(
    n: int = 3000, dim: int = 32, pairs: int = 100, seed: int = 0
) -> tuple[np.ndarray, set]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    sources = rng.choice(n - pairs, pairs, replace=False)
    for k, s in enumerate(sources):  # a planted near copy at the end of the array
        vectors[n - pairs + k] = vectors[s] + rng.normal(scale=0.05, size=dim)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, {
        (int(min(s, n - pairs + k)), int(max(s, n - pairs + k))) for k, s in enumerate(sources)
    }


def test_hnsw_finds_what_exact_search_finds() -> None:
    vectors, planted = _planted_vectors()
    exact, exact_scores = exact_pairs(vectors, 0.95, block=512)
    assert {tuple(p) for p in exact.tolist()} == planted and (exact_scores >= 0.95).all()
    approx, scores = hnsw_pairs(vectors, 0.95, AnnConfig(exact_max=0))
    found = {tuple(p) for p in approx.tolist()}
    assert len(found & planted) >= 0.95 * len(planted) and found <= planted
    assert (approx[:, 0] < approx[:, 1]).all() and np.allclose(
        scores, np.einsum("ij,ij->i", vectors[approx[:, 0]], vectors[approx[:, 1]]), atol=1e-5
    )
    # similar_pairs switches to HNSW past exact_max rows only
    small, _ = similar_pairs(vectors[:500], 0.95, AnnConfig(exact_max=1000))
    assert {tuple(p) for p in small.tolist()} == {p for p in planted if p[1] < 500}


def test_kmeans_blocking_finds_what_exact_search_finds() -> None:
    vectors, planted = _planted_vectors(n=6000, pairs=200)
    config = AnnConfig(exact_max=0, list_rows=100)  # 60 lists: most rows are far from most lists
    found_pairs, scores = kmeans_pairs(
        vectors.astype(np.float16), 0.95, config
    )  # stored as the audit stores them
    found = {tuple(p) for p in found_pairs.tolist()}
    assert len(found & planted) >= 0.95 * len(planted) and found <= planted
    assert (found_pairs[:, 0] < found_pairs[:, 1]).all() and len(found) == len(found_pairs)
    assert np.allclose(
        scores,
        np.einsum("ij,ij->i", vectors[found_pairs[:, 0]], vectors[found_pairs[:, 1]]),
        atol=2e-3,
    )
    via, _ = similar_pairs(vectors, 0.95, config)  # the default method past exact_max
    assert {tuple(p) for p in via.tolist()} == {
        tuple(p) for p in kmeans_pairs(vectors, 0.95, config)[0].tolist()
    }
    one_list, _ = kmeans_pairs(
        vectors[:50], 0.95, AnnConfig(exact_max=0)
    )  # fewer rows than a list holds
    assert {tuple(p) for p in one_list.tolist()} == {p for p in planted if p[1] < 50}


def test_static_embedder_is_normalised_and_empty_safe() -> None:
    static = StaticEmbedder()
    vectors = static.encode(
        ["How do I bake bread?", "How can I bake a loaf?", "Who won the 1998 World Cup?"]
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert static.encode([]).shape == (0, static.dim)
    small = StaticEmbedder(
        cache_size=3
    )  # the cache holds about one batch; past it, it starts again
    first = small.encode(["a b", "c d"])
    again = small.encode(["c d", "e f", "g h"])  # over the cache: cleared, and "c d" still answered
    assert np.allclose(again[0], first[1]) and small.encoded_texts == 4
    assert np.allclose(small.encode(["e f"] * 5), again[1])


def test_fast_semantic_dedup_agrees_with_minilm_only() -> None:
    embedder, static = Embedder(), StaticEmbedder()
    records = [
        *RECORDS,
        _rec(
            "k3",
            "How do I bake bread with three grains?",
            "Mix barley, oat and rye flour with water, salt and starter.",
        ),
    ]

    def found(fast: bool) -> tuple[list, dict]:
        ctx = AuditContext(embedder=embedder, static=static)
        pairs = sorted(
            (f.record_id, f.details["kept"])
            for f in SemanticDuplicateCheck(SemanticConfig(fast=fast)).run(records, ctx)
        )
        return pairs, ctx.sections["semantic_duplicate"]["params"]

    (slow, _), (fast, params) = found(False), found(True)
    assert slow == fast == [("k2", "k1"), ("k3", "k1")]
    assert params["candidate_pairs"] >= 2 and "static0.85" in params["config"]


def test_fast_contamination_agrees_with_minilm_only() -> None:
    embedder, static = Embedder(), StaticEmbedder()

    def found(fast: bool) -> tuple[dict, list]:
        ctx = AuditContext(evals=EVALS, embedder=embedder, static=static)
        check = EvalContaminationCheck(ContaminationConfig(fast=fast))
        findings = {f.record_id: f.details["severity"] for f in check.run(RECORDS, ctx)}
        return findings, [
            [n["id"] for n in e["neighbours"][:2]]
            for e in ctx.sections["eval_contamination"]["evals"]
        ]

    slow, fast = found(False), found(True)
    assert fast[0] == slow[0] and "p1" in fast[0] and fast[1][0] == slow[1][0]


def test_fast_refusal_scores_match_minilm_on_candidates() -> None:
    texts = [
        "I'm sorry, but I can't help with that.",
        "Unfortunately that is something I am unable to do for you.",
        "Barley, oat and rye make the three-grain loaf.",
        "The Long Walk lasts three days.",
    ]
    embedder = Embedder()
    config = RefusalConfig(embed_skip_decided=False, embed_cue_chars=0)  # embed every text
    full = RefusalDetector(config, embedder=embedder).score(texts)
    detector = RefusalDetector(config, embedder=embedder, static=StaticEmbedder())
    fast = detector.score(texts)
    assert [s.refusal for s in fast] == [s.refusal for s in full]
    # MiniLM read only the static stage's candidates, and gave them its own probability
    assert 0 < detector.confirmed <= len(texts)
    for a, b in zip(full, fast):
        if b.embedding is not None and b.embedding >= detector.config.candidate_prob:
            assert abs(a.embedding - b.embedding) < 1e-4


def test_kmeans_round_compares_exactly_the_rows_sharing_a_list() -> None:
    """Each list's rows, grouped without a row-number array (issue 25's memory cut), are the
    rows whose ``probes`` nearest centroids include that list: the round's pairs are those of
    the exact search inside each list so built, pair for pair."""
    from credo.filters.ann import _fit_lists, _kmeans_round, _nearest_lists

    vectors, _ = _planted_vectors(n=4000, dim=16, pairs=200, seed=3)
    config = AnnConfig(exact_max=0, list_rows=250, probes=2, max_neighbours=None)
    pairs, scores = _kmeans_round(vectors, 0.8, config, seed=5)
    centroids, mean = _fit_lists(vectors, len(vectors) // 250, config, np.random.default_rng(5))
    near = _nearest_lists(vectors, centroids, 2, mean)
    expected: dict[tuple[int, int], float] = {}
    for lst in np.unique(near):
        rows = np.flatnonzero((near == lst).any(axis=1))
        found, cos = exact_pairs(vectors[rows], 0.8)
        expected.update({(int(rows[a]), int(rows[b])): c for (a, b), c in zip(found, cos)})
    assert sorted(expected) == [tuple(p) for p in pairs.tolist()] and len(expected) > 200
    assert np.allclose([expected[tuple(p)] for p in pairs.tolist()], scores)


def test_embedder_cache_is_bounded_and_gives_the_same_vectors() -> None:
    """A worker reads every distinct prompt of its batches: the cache empties when full instead
    of growing with the corpus, and a text read again after that gets the same vector."""
    texts = [f"Which stone does the Pebblehold count on day {i}?" for i in range(40)]
    embedder = Embedder(cache_size=16)
    first = np.concatenate([embedder.encode(texts[i : i + 10]) for i in range(0, 40, 10)])
    assert len(embedder._cache) <= 16 and embedder.encoded_texts == 40
    again = embedder.encode(texts[:10])  # forgotten: encoded again
    assert embedder.encoded_texts == 50 and np.allclose(again, first[:10], atol=1e-6)
    assert np.allclose(Embedder().encode(texts), first, atol=1e-6)


def test_contamination_keeps_one_running_partial_with_the_same_findings() -> None:
    """The engines fold each batch's hits into one partial (``combine``) instead of keeping
    every batch's: the findings and the nearest-records section are those of one batch."""
    from credo.filters.base import InMemory, Parts

    static = StaticEmbedder()
    records = RECORDS * 3  # the planted ones again in later batches: positions must shift right
    records = [_rec(f"{r.id}_{i}", r.prompt, r.response) for i, r in enumerate(records)]
    check = EvalContaminationCheck(ContaminationConfig(confirm=False))

    def audit(batch: int) -> tuple[list, dict, int]:
        ctx = AuditContext(evals=EVALS, static=static)
        parts = Parts(check)
        for start in range(0, len(records), batch):
            parts.add(start, check.map_batch(records[start : start + batch], ctx))
        held = len(parts.items)
        found = check.reduce(parts.drain(), InMemory(records), ctx)
        findings = [(f.record_id, f.details) for f in found]
        return findings, ctx.sections["eval_contamination"], held

    whole, streamed = audit(len(records)), audit(2)
    assert streamed[2] == 1 and streamed[:2] == whole[:2] and whole[0]


def test_kmeans_rounds_grow_with_the_rows_past_rounds_rows() -> None:
    """Lists have a fixed size, so more rows make more borders: past ``rounds_rows`` one more
    clustering per doubling, each adding its pairs to those of the rounds before it."""
    config = AnnConfig()
    assert [config.rounds_for(n) for n in (1000, 1_000_000, 1_000_001, 2_000_000)] == [2, 2, 3, 3]
    assert [config.rounds_for(n) for n in (3_000_000, 4_000_000, 10_000_000)] == [4, 4, 6]
    vectors, planted = _planted_vectors(n=4000, dim=24, pairs=150, seed=7)
    growing = AnnConfig(exact_max=0, list_rows=100, probes=1, rounds=1, rounds_rows=1000)
    fixed = AnnConfig(exact_max=0, list_rows=100, probes=1, rounds=3, rounds_rows=10**9)
    one = AnnConfig(exact_max=0, list_rows=100, probes=1, rounds=1, rounds_rows=10**9)
    grown, _ = kmeans_pairs(vectors, 0.9, growing)  # 4,000 rows: 1 + 2 doublings = 3 rounds
    assert grown.tolist() == kmeans_pairs(vectors, 0.9, fixed)[0].tolist()
    first = {tuple(p) for p in kmeans_pairs(vectors, 0.9, one)[0].tolist()}
    found = {tuple(p) for p in grown.tolist()}
    assert first < found and len(found & planted) > len(first & planted)
