"""The semantic check's second candidate route: pairs whose answers open alike while their
questions are worded apart, which the pair vectors (question and answer head averaged) put
under the candidate threshold."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from credo.filters.ann import AnnConfig
from credo.filters.base import AuditContext, InMemory, Parts
from credo.filters.dedup import (
    SemanticConfig,
    SemanticDuplicateCheck,
    centre_rows,
    head_route_pairs,
)
from credo.filters.spill import Spill
from credo.types import Message, Record

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import million_synth


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _vectors(n: int = 3000, dim: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pair and head vectors with a shared direction each. Rows 100-139 copy rows 0-39's head
    exactly but only half their pair vector (a reworded question); rows 200-239 copy the
    head of row 50 (a templated answer) under unrelated questions."""
    rng = np.random.default_rng(seed)
    pairs = rng.normal(size=(n, dim)) + 3.0
    heads = rng.normal(size=(n, dim)) + 3.0
    pairs[100:140] = pairs[0:40] + 0.8 * rng.normal(size=(40, dim))
    heads[100:140] = heads[0:40]
    heads[200:240] = heads[50]
    return _unit(pairs).astype(np.float16), _unit(heads).astype(np.float16)


def _cosines(vectors: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", vectors[pairs[:, 0]], vectors[pairs[:, 1]])


def test_head_route_returns_reworded_copies_above_the_floor_and_not_found_ones() -> None:
    pairs, heads = _vectors()
    vectors = pairs.astype(np.float32)
    centre_rows(vectors)
    config = SemanticConfig()
    reworded = {(i, 100 + i) for i in range(40)}
    scores = _cosines(vectors, np.array(sorted(reworded)))
    # The premise: the pair vectors alone put these copies under the candidate threshold.
    assert (scores < config.candidate_threshold).all() and (scores >= config.head_floor).all()
    found = np.array([[0, 100], [1, 101]])  # the first route's pairs are not returned again
    route, route_scores = head_route_pairs(vectors, heads.copy(), found=found, config=config)
    assert set(map(tuple, route.tolist())) == reworded - {(0, 100), (1, 101)}
    # The templated heads share a vector under unrelated questions: the floor keeps them out.
    assert not {(a, b) for a, b in route.tolist() if a >= 200 or b >= 200}
    assert np.allclose(route_scores, _cosines(vectors, route), atol=1e-5)
    assert (route_scores >= config.head_floor).all()


class OneVector:
    """An embedder that reads every text as the same vector: every pair it is asked about
    confirms, so the findings are the candidate pairs themselves."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 8), dtype=np.float32) / np.sqrt(8)


def _records(n: int) -> list[Record]:
    return [
        Record(f"r{i}", [Message("user", f"question {i}"), Message("assistant", f"answer {i}")])
        for i in range(n)
    ]


@pytest.mark.parametrize("exact_max", [100_000, 1000])  # exact search, then k-means blocking
def test_head_route_spilled_matches_in_memory(exact_max: int) -> None:
    pairs, heads = _vectors()
    ann = AnnConfig(exact_max=exact_max, probe_min=100_000, list_rows=100, rounds=2)
    config = SemanticConfig(ann=ann, head_ann=replace(ann, probes=2, rounds=1))
    check = SemanticDuplicateCheck(config)
    parts = Parts(check)
    for start in range(0, len(pairs), 512):
        parts.add(start, (pairs[start : start + 512], heads[start : start + 512]))
    spilled = list(parts.drain())
    assert isinstance(spilled[0][1], Spill) and "heads" in spilled[0][1].columns
    results = []
    for given in (spilled, [(0, (pairs, heads))]):
        ctx = AuditContext()
        ctx.embedder = OneVector()  # type: ignore[assignment]
        found = list(check.reduce(given, InMemory(_records(len(pairs))), ctx))
        results.append((found, ctx.sections))
    (spilled_found, spilled_sections), (whole_found, whole_sections) = results
    assert spilled_found == whole_found and spilled_sections == whole_sections
    params = whole_sections["semantic_duplicate"]["params"]
    assert params["head_route_pairs"] == 40  # the reworded copies, none of the templated heads
    assert {f.record_id for f in whole_found} >= {f"r{i}" for i in range(100, 140)}


def test_head_route_off_keeps_one_vector_a_record() -> None:
    records = _records(4)
    check = SemanticDuplicateCheck(SemanticConfig(head_route=False))
    assert isinstance(check.map_batch(records, AuditContext()), np.ndarray)
    both = SemanticDuplicateCheck().map_batch(records, AuditContext())
    assert isinstance(both, tuple) and both[0].shape == both[1].shape


def _real_corpus() -> tuple[list[Record], set[str]]:
    """1,500 million_synth records (centring needs 1,000), 24 of them copies reworded in the
    question form the static model reads worst ("Summarize what is known about" -> "Give a
    summary of what is known about": every planted paraphrase the 100k audit's static stage
    missed had it), plus 24 records of the same topic and form that are not copies."""
    maker = million_synth.Maker(11, [])
    rng = maker.rng
    bodies = [maker.ordinary("regular") for _ in range(1400)]
    bodies += [maker.unclear() for _ in range(52)]  # templated refusals: heads alike
    form = next(k for k, (q, _) in enumerate(million_synth.FORMS) if q.startswith("Summarize"))
    copies = []
    for source in bodies[:24]:
        source.update(form=form, prompt=million_synth.FORMS[form][0].format(p=source["phrase"]))
        source["prompt"] += source["suffix"]
        copies.append(maker.paraphrase(source))
        other = maker.ordinary("regular")
        phrase = maker.phrase(source["topic"])
        other.update(prompt=million_synth.FORMS[form][0].format(p=phrase) + "?")
        other["answer"] = maker.answer(source["topic"])
        bodies.append(other)
    records = [
        Record.from_json(million_synth.to_json({**body, "id": f"s{i}"}, rng))
        for i, body in enumerate(bodies)
    ]
    records += [
        Record.from_json(million_synth.to_json({**body, "id": f"c{i}"}, rng))
        for i, body in enumerate(copies)
    ]
    return records, {f"c{i}" for i in range(len(copies))}


def test_head_route_finds_reworded_questions_real_models() -> None:
    """The real static model and MiniLM: without the head route most copies stay under the
    candidate threshold; with it every copy is flagged, and nothing else is."""
    records, copies = _real_corpus()
    flagged = {}
    for route in (False, True):
        ctx = AuditContext()
        check = SemanticDuplicateCheck(SemanticConfig(head_route=route))
        flagged[route] = {f.record_id for f in check.run(records, ctx)}
        params = ctx.sections["semantic_duplicate"]["params"]
    missed = {route: copies - found for route, found in flagged.items()}
    print({route: sorted(m) for route, m in missed.items()})
    assert len(missed[False]) >= 12  # the premise: the pair vectors miss most of them
    assert len(missed[True]) <= 2 and flagged[True] <= copies  # nothing but copies
    assert params["head_route_pairs"] >= len(missed[False]) - len(missed[True])
    assert flagged[False] <= flagged[True]
