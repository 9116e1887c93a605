"""Per-record partials spilled to disk give the findings the in-memory partials give, and a
one-big-cluster corpus reduces with pairs bounded by rows, not by rows squared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from credo.filters.ann import AnnConfig
from credo.filters.base import AuditContext, InMemory, Parts
from credo.filters.dedup import (
    NearDuplicateCheck,
    SemanticConfig,
    SemanticDuplicateCheck,
    centre_rows,
)
from credo.filters.spill import SPILL_ENV, Spill, SpilledIds, SpilledRows
from credo.types import Message, Record


def _records(n: int) -> list[Record]:
    return [
        Record(f"r{i}", [Message("user", f"question {i}"), Message("assistant", f"answer {i}")])
        for i in range(n)
    ]


def _planted_vectors(n: int, dim: int = 32, copies: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)) + 3.0  # a shared direction, as static vectors have
    for k, source in enumerate(rng.choice(n - copies, copies, replace=False)):
        vectors[n - copies + k] = vectors[source] + rng.normal(scale=0.02, size=dim)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float16)


def _findings(check: object, parts: list, records: list[Record]) -> tuple[list, dict]:
    ctx = AuditContext()
    found = list(check.reduce(parts, InMemory(records), ctx))  # type: ignore[attr-defined]
    return found, ctx.sections


def _through_parts(check: object, batches: list) -> list:
    """What the engines hand reduce: the batches folded by ``Parts`` (spilled past one)."""
    parts = Parts(check)  # type: ignore[arg-type]
    offset = 0
    for batch in batches:
        parts.add(offset, batch)
        offset += len(batch if not isinstance(batch, tuple) else batch[0])
    return list(parts.drain())


def test_spilled_rows_read_back_what_was_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(SPILL_ENV, str(tmp_path))
    spill = Spill()
    column = spill.column("v", 3, np.float16)
    data = np.arange(30, dtype=np.float16).reshape(10, 3)
    column.add(data[:4])
    column.add(data[4:])
    assert column.shape == (10, 3) and spill.folder.parent == tmp_path
    assert np.array_equal(column[2:7], data[2:7]) and np.array_equal(
        column[[9, 0, 5]], data[[9, 0, 5]]
    )
    assert np.array_equal(column[3], data[3])
    monkeypatch.setattr("credo.filters.spill.BLOCK_BYTES", 12)  # windows of two rows
    scattered = np.array([7, 0, 9, 3, 3, 4])
    assert np.array_equal(column[scattered], data[scattered])
    centred, spilled = data.copy(), Spill().column("c", 3, np.float16)
    spilled.add(data)
    centre_rows(centred, block=4)
    centre_rows(spilled, block=4)  # written back in place, a block at a time
    assert np.array_equal(spilled[:], centred)
    folder = spill.folder
    spill.close()
    assert not folder.exists()


@pytest.mark.parametrize(
    ("exact_max", "probe_min"), [(100_000, 100_000), (100_000, 1000), (1000, 100_000)]
)  # exact search, inverted file, then k-means blocking
def test_semantic_duplicates_spilled_match_in_memory(exact_max: int, probe_min: int) -> None:
    n = 4000
    vectors, records = _planted_vectors(n), _records(n)
    ann = AnnConfig(exact_max=exact_max, probe_min=probe_min, list_rows=100, rounds=2)
    config = SemanticConfig(confirm=False, ann=ann)
    check = SemanticDuplicateCheck(config)
    batches = [vectors[i : i + 512] for i in range(0, n, 512)]
    spilled = _through_parts(check, batches)
    assert isinstance(spilled[0][1], Spill)
    spilled_found, spilled_sections = _findings(check, spilled, records)
    whole_found, whole_sections = _findings(check, [(0, vectors)], records)
    assert spilled_found == whole_found and spilled_sections == whole_sections
    assert len({f.record_id for f in whole_found}) >= 55  # the planted copies, not noise


def test_near_duplicates_spilled_match_in_memory() -> None:
    rng = np.random.default_rng(1)
    check = NearDuplicateCheck()
    n, bands, perm = 3000, check.config.bands, check.config.num_perm
    sigs = rng.integers(0, 1 << 16, size=(n, perm), dtype=np.uint16)
    sigs[2500:2600] = sigs[100:200]  # copies of earlier records
    sigs[2500:2600, :5] += 1  # ... with a few slots changed
    keys = rng.integers(0, 1 << 62, size=(n, bands), dtype=np.uint64)
    keys[2500:2600] = keys[100:200]
    batches = [(keys[i : i + 700], sigs[i : i + 700]) for i in range(0, n, 700)]
    records = _records(n)
    spilled = _through_parts(check, batches)
    assert isinstance(spilled[0][1], Spill)
    found, sections = _findings(check, spilled, records)
    whole, whole_sections = _findings(check, [(0, (keys, sigs))], records)
    assert found == whole and sections == whole_sections
    assert {f.record_id for f in found} == {f"r{i}" for i in range(2500, 2600)}


def test_one_big_cluster_reduces_with_pairs_bounded_by_rows() -> None:
    """A mode-collapsed corpus: every row near every other. The spilled reduce keeps a few
    links per row, reports one cluster, and names it a collapse."""
    n, rng = 3000, np.random.default_rng(2)
    centre = rng.normal(size=32)
    vectors = centre + 0.01 * rng.normal(size=(n, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)
    check = SemanticDuplicateCheck(
        SemanticConfig(confirm=False, centre=False, ann=AnnConfig(max_neighbours=8))
    )
    spilled = _through_parts(check, [vectors[i : i + 500] for i in range(0, n, 500)])
    found, sections = _findings(check, spilled, _records(n))
    section = sections["semantic_duplicate"]
    assert section["one_big_cluster"] and section["largest_cluster"] == n
    assert section["cluster_count"] == 1 and len(found) == n - 1
    # k links per row plus at most one for a row whose partners are all full: not n^2 / 2 = 4.5M
    assert section["params"]["candidate_pairs"] <= 9 * n
    assert len(section["clusters"][0]["removed"]) <= 100  # summarised, not listed whole


def test_spilled_rows_are_a_column_of_the_spill() -> None:
    column = Spill().column("x", 2, np.uint64)
    assert isinstance(column, SpilledRows) and len(column) == 0


def test_spilled_ids_read_back_in_order(monkeypatch) -> None:
    monkeypatch.setattr(SpilledIds, "FLUSH", 7)  # several flushes on a small list
    ids = SpilledIds()
    expected = [f"id-{i}-é" for i in range(50)]
    ids.extend(expected[:20])
    for record_id in expected[20:]:
        ids.append(record_id)
    assert len(ids) == 50 and ids[0] == expected[0] and ids[-1] == expected[-1]
    assert ids[13] == expected[13] and ids[49] == expected[49] and ids[3:6] == expected[3:6]
    assert ids == expected and list(ids) == expected and ids != expected[:-1]
    with pytest.raises(IndexError):
        ids[50]


def test_kmeans_fitted_on_a_capped_sample_still_finds_the_copies() -> None:
    from credo.filters.ann import kmeans_pairs

    vectors = _planted_vectors(4000, copies=60)
    column = Spill().column("v", vectors.shape[1], vectors.dtype)
    column.add(vectors)
    capped = AnnConfig(exact_max=0, list_rows=100, sample_max=400)  # 40 lists on 400 rows
    pairs, _ = kmeans_pairs(column, 0.95, capped)
    copies = {int(b) for _, b in pairs.tolist() if b >= 4000 - 60}
    assert len(copies) >= 0.9 * 60
