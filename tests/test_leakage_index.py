"""Hashing, streamed readers and the on-disk n-gram index (cache, staleness, damage)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from credo import ngrams as tok
from credo.errors import CorpusError
from credo.leakage.index import IndexConfig, load_index, open_index
from credo.leakage.readers import iter_documents, resolve_sources

TEXT = "The Quick brown fox jumps over the lazy dog near Plonkwell barn; " * 3


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))


def test_phrase_hash_matches_the_same_words_inside_any_text():
    alone = tok.phrase_hashes("plonkwell barn", 2)
    inside = tok.phrase_hashes("Near PLONKWELL -- barn, said she", 2)
    assert alone[0] in inside
    assert tok.phrase_hashes("barn plonkwell", 2)[0] not in inside


def test_long_words_and_unicode_hash_exactly():
    long_word = "internationalizationally"
    a = tok.phrase_hashes(f"x {long_word} y", 1)[1]
    b = tok.phrase_hashes(f"{long_word}", 1)[0]
    c = tok.phrase_hashes("internationalizationallz", 1)[0]
    assert a == b != c
    assert tok.words("Café déjà-vu") == ["café", "déjà", "vu"]
    assert len(set(tok.phrase_hashes("café cafe café", 1).tolist())) == 2


def test_window_hashes_equal_the_polynomial_definition():
    tokens = np.random.default_rng(0).integers(0, 2**63, 40, dtype=np.uint64)
    for n in (1, 2, 3, 5, 13):
        expected = []
        for i in range(len(tokens) - n + 1):
            value = 0
            for t in tokens[i : i + n].tolist():
                value = (value * tok._BASE + t) % 2**64
            expected.append(value)
        assert tok.ngram_hashes(tokens, n).tolist() == expected


def test_ngrams_never_span_two_documents():
    hashes, _ = tok.token_hashes(tok.normalise(b"a b c d e f"))
    groups = np.array([0, 0, 0, 1, 1, 1])
    assert len(tok.ngram_hashes(hashes, 3, groups)) == 2
    assert len(tok.ngram_hashes(hashes, 3)) == 4


def _write_all_formats(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    rows = "".join(json.dumps({"text": TEXT, "id": i}) + "\n" for i in range(2))
    (folder / "b.jsonl").write_text(rows)
    with gzip.open(folder / "c.jsonl.gz", "wt") as handle:
        handle.write(rows)
    import zstandard

    (folder / "d.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(TEXT.encode()))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": [TEXT, TEXT]}), folder / "e.parquet")
    (folder / ".hidden.txt").write_text("ignored")


def test_every_format_streams_the_same_text(tmp_path):
    _write_all_formats(tmp_path / "ref")
    sources = resolve_sources([tmp_path / "ref"])
    assert [s.path.name for s in sources] == [
        "a.txt",
        "b.jsonl",
        "c.jsonl.gz",
        "d.txt.zst",
        "e.parquet",
    ]
    docs = list(iter_documents(sources))
    assert len(docs) == 1 + 2 + 2 + 1 + 2
    assert {d.text.strip() for d in docs} == {TEXT.strip().encode()}


def test_plain_text_is_cut_into_documents_at_line_breaks(tmp_path, monkeypatch):
    monkeypatch.setattr("credo.leakage.readers.BLOCK", 64)
    (tmp_path / "a.txt").write_text("".join(f"line {i} of text\n" for i in range(40)))
    docs = list(iter_documents(resolve_sources([tmp_path / "a.txt"])))
    assert len(docs) > 3
    assert b"".join(d.text for d in docs).count(b"of text") == 40
    assert all(d.text.endswith(b"text") or d.text.endswith(b"text\n") for d in docs)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bin.txt", b"abc\x00\x01\x02" * 10, "binary data"),
        ("latin.txt", "caf\xe9 ".encode("latin-1") * 10, "not UTF-8"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', ":2: invalid JSON"),
        (
            "nofield.jsonl",
            b'{"body": "ok"}\n',
            "text field 'text' not found; available keys: ['body']",
        ),
        ("fake.jsonl.gz", b"plain text, not gzip", "not a gzip file"),
        ("trunc.txt.gz", gzip.compress(b"hello world " * 1000, mtime=0)[:60], "truncated"),
        ("bad.parquet", b"PAR1 not really", "not a readable Parquet"),
        ("x.docx", b"whatever", "unknown reference format"),
    ],
)
def test_bad_reference_files_fail_with_a_clear_message(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CorpusError, match=message.replace("[", r"\[").replace("]", r"\]")):
        open_index(resolve_sources([tmp_path / name]))


def test_missing_path_empty_folder_and_empty_text_are_errors(tmp_path):
    with pytest.raises(CorpusError, match="no such reference"):
        resolve_sources([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no reference files inside"):
        resolve_sources([tmp_path / "empty"])
    (tmp_path / "blank.txt").write_text("  \n\n ... !!! \n")
    with pytest.raises(CorpusError, match="holds no text"):
        open_index(resolve_sources([tmp_path / "blank.txt"]))
    assert not list((tmp_path / "home" / "leakage" / "index").glob("*"))  # nothing cached


def _reference(tmp_path: Path, lines: int = 300) -> Path:
    path = tmp_path / "ref.txt"
    path.write_text(
        "".join(
            f"sentence number {i} mentions plonkwell and grain {i % 7}.\n" for i in range(lines)
        )
    )
    return path


def test_index_spans_shards_and_finds_ngrams(tmp_path, monkeypatch):
    monkeypatch.setattr("credo.leakage.readers.BLOCK", 400)
    path = _reference(tmp_path)
    index = open_index(resolve_sources([path]), IndexConfig(n=5, shard_bytes=2000, block_bytes=500))
    assert index.shard_count > 3
    grams = tok.phrase_hashes("sentence number 299 mentions plonkwell", 5)
    assert index.contains(grams).tolist() == [True]
    assert index.contains(
        tok.phrase_hashes("sentence number 300 mentions plonkwell", 5)
    ).tolist() == [False]
    word = index.shards_containing(tok.phrase_hashes("plonkwell", 1), "uni")
    assert word.all()
    assert not index.shards_containing(tok.phrase_hashes("zorblax", 1), "uni").any()
    last = index.shards_containing(tok.phrase_hashes("number 299", 2), "bi")[:, 0]
    assert last[-1] and not last[0]


def test_index_is_cached_then_rebuilt_when_stale_or_damaged(tmp_path, monkeypatch):
    monkeypatch.setattr("credo.leakage.readers.BLOCK", 400)
    path = _reference(tmp_path)
    config = IndexConfig(n=5, shard_bytes=2000, block_bytes=500)
    first = open_index(resolve_sources([path]), config)
    stamp = (first.folder / "meta.json").stat().st_mtime_ns
    again = open_index(resolve_sources([path]), config)
    assert again.folder == first.folder and (again.folder / "meta.json").stat().st_mtime_ns == stamp

    path.write_text(path.read_text() + "a brand new zorblax line.\n")  # stale: new content
    fresh = open_index(resolve_sources([path]), config)
    assert fresh.folder != first.folder
    assert fresh.shards_containing(tok.phrase_hashes("zorblax", 1), "uni").any()

    shard = next(fresh.folder.glob("gram-*.npy"))
    shard.write_bytes(shard.read_bytes()[:-16])  # damaged: truncated shard
    assert load_index(fresh.folder) is None
    messages: list[str] = []
    repaired = open_index(resolve_sources([path]), config, log=messages.append)
    assert any("damaged - rebuilding" in m for m in messages)
    assert repaired.shards_containing(tok.phrase_hashes("zorblax", 1), "uni").any()


def test_touched_file_with_same_content_reuses_the_index(tmp_path):
    import os

    path = _reference(tmp_path)
    first = open_index(resolve_sources([path]))
    os.utime(path, ns=(1, 1))  # new fingerprint, same content hash
    assert open_index(resolve_sources([path])).folder == first.folder


def test_parallel_build_gives_the_same_answers(tmp_path):
    for number in range(3):
        (tmp_path / f"part-{number}.txt").write_text(
            "".join(
                f"file {number} line {i} says plonkwell number {i * number}.\n" for i in range(200)
            )
        )
    sources = resolve_sources([tmp_path])
    config = IndexConfig(n=5, shard_bytes=2000, block_bytes=500)
    serial = open_index(sources, config)
    parallel = open_index(sources, config, rebuild=True, workers=2)
    assert parallel.folder == serial.folder and parallel.meta["tokens"] == serial.meta["tokens"]
    assert any(name.startswith("gram-001.") for s in parallel.meta["shards"] for name in s["files"])
    assert [d[0] for s in parallel.meta["shards"] for d in s["docs"]] == [0, 1, 2]
    queries = np.concatenate(
        [tok.phrase_hashes(f"file 2 line {i} says", 5) for i in range(0, 400, 7)]
    )
    assert parallel.contains(queries).tolist() == [i < 200 for i in range(0, 400, 7)]
    import shutil

    shutil.rmtree(tmp_path / "home" / "leakage" / "fingerprints")  # files hashed again, in threads
    assert open_index(sources, config, workers=2).folder == serial.folder


def _indexed_grams(index) -> np.ndarray:
    return np.unique(np.concatenate(index.arrays["gram"]))


@pytest.mark.parametrize("block_bytes", [60, 500, 1 << 20])
def test_index_holds_exactly_each_documents_own_ngrams(tmp_path, monkeypatch, block_bytes):
    # Blocks of one document and of many take different paths; both must index the n-grams
    # of each document hashed on its own, and none spanning two documents.
    monkeypatch.setattr("credo.leakage.readers.BLOCK", 200)
    path = _reference(tmp_path)
    sources = resolve_sources([path])
    config = IndexConfig(n=5, shard_bytes=4000, block_bytes=block_bytes)
    index = open_index(sources, config)
    docs = [d.text.decode() for d in iter_documents(sources, "text", 0)]
    assert len(docs) > 3
    expected = np.unique(np.concatenate([tok.phrase_hashes(d, 5) for d in docs]))
    assert np.array_equal(_indexed_grams(index), expected)


def _shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.npy"))}


@pytest.mark.slow  # Ray start-up: ~10 s on a loaded 2-core box
@pytest.mark.xdist_group("ray")  # beside the Ray audit tests: one cluster at a time
def test_ray_build_writes_the_same_shards_as_processes(tmp_path):
    ray = pytest.importorskip("ray")
    from credo.leakage.index import build_index

    for number in range(3):
        (tmp_path / f"part-{number}.txt").write_text(
            "".join(
                f"file {number} line {i} says plonkwell number {i * number}.\n" for i in range(200)
            )
        )
    sources = resolve_sources(sorted(tmp_path.glob("part-*.txt")))
    config = IndexConfig(n=5, shard_bytes=2000, block_bytes=500)
    processes = build_index(sources, tmp_path / "processes", config, workers=2)
    started_here = not ray.is_initialized()  # reuse a session's Ray when one is running
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with_ray = build_index(sources, tmp_path / "ray", config, workers=2, engine="ray")
        (tmp_path / "part-9.txt").write_bytes(b"x\x00 binary")  # a task's bad file: its own error
        with pytest.raises(CorpusError, match=r"part-9.txt: binary data"):
            build_index(
                resolve_sources(sorted(tmp_path.glob("part-*.txt"))),
                tmp_path / "bad",
                config,
                engine="ray",
            )
    finally:
        if started_here:
            ray.shutdown()
    assert with_ray["shards"] == processes["shards"]
    assert _shard_bytes(tmp_path / "ray") == _shard_bytes(tmp_path / "processes")
    assert len(_shard_bytes(tmp_path / "ray")) > 3


def test_unknown_engine_is_a_config_error(tmp_path):
    from credo.errors import ConfigError
    from credo.leakage.index import build_index

    with pytest.raises(ConfigError, match="--engine 'spark' is not known"):
        build_index(
            resolve_sources([_reference(tmp_path)]), tmp_path / "x", IndexConfig(), engine="spark"
        )


def test_unreachable_ray_address_fails_fast_naming_it(tmp_path):
    pytest.importorskip("ray")
    from credo.errors import ConfigError
    from credo.leakage.index import build_index

    with pytest.raises(ConfigError, match=r"--address 127.0.0.1:1: no Ray cluster answers there"):
        build_index(
            resolve_sources([_reference(tmp_path)]),
            tmp_path / "x",
            IndexConfig(),
            engine="ray",
            address="127.0.0.1:1",
        )
    assert not any((tmp_path / "x").rglob("*.npy"))  # no shard written
