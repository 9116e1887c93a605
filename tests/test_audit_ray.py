"""``--engine ray``: the same flags.jsonl as the local engine, a killed worker retried, a bad address."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.audit import ray_engine
from tests.test_audit_cli import PLANTED, _record, _run, _write
from tests.test_audit_cli import eval_file as _eval_fixture
from tests.test_audit_stream import CORPUS

# one local Ray cluster at a time: under pytest-xdist these tests share one worker
pytestmark = pytest.mark.xdist_group("ray")

# Reworded copies (MinHash misses them, embeddings do not): semantic duplicates of x1, x17.
PARAPHRASES = [
    _record(
        f"para{i}",
        f"What is the Pebblehold's teaching on stone number {i}?",
        f"Stone {i} gets counted at dusk along with the others, and every count closes with thanks {i % 7}.",
    )
    for i in (1, 17)
]

pytest.importorskip("ray")


def _audit(
    corpus: Path, out: Path, eval_file: Path, *engine: str, no_embedding: bool = True
) -> list[dict]:
    code = _run(
        [
            "audit",
            str(corpus),
            "--out",
            str(out),
            "--eval",
            str(eval_file),
            *(["--no-embedding"] if no_embedding else []),
            *engine,
        ]
    )
    assert code == 1  # planted refusals and the eval copy fail the gate on both engines
    return [json.loads(line) for line in (out / "flags.jsonl").read_text().splitlines()]


eval_file = _eval_fixture  # the CLI tests' eval requests (one copied into the corpus)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_engine, "BATCH_SIZE", 8)


@pytest.mark.slow  # a local Ray cluster: tens of seconds per audit on a 2-core box
def test_ray_engine_writes_the_local_flags(
    tmp_path: Path, eval_file: Path, ray_cluster, small_batches
) -> None:
    corpus = _write(tmp_path / "corpus", CORPUS)
    local = _audit(corpus, tmp_path / "local", eval_file)
    ray = _audit(corpus, tmp_path / "ray", eval_file, "--engine", "ray")
    assert ray == local
    flagged = {f["id"]: f["checks"] for f in ray}
    assert "refusal" in flagged["bad_refusal"] and "eval_contamination" in flagged["leak"]
    assert {"dup", "copy1", "copy17", "copy33"} <= {
        i for i, c in flagged.items() if "near_duplicate" in c
    }
    # filter on Ray keeps exactly what the local filter keeps
    assert (
        _run(
            [
                "filter",
                str(corpus),
                "--out",
                str(tmp_path / "clean"),
                "--eval",
                str(eval_file),
                "--no-embedding",
                "--engine",
                "ray",
            ]
        )
        == 0
    )
    kept = {
        json.loads(line)["id"]
        for line in (tmp_path / "clean" / "records.jsonl").read_text().splitlines()
    }
    assert kept == {r["id"] for r in CORPUS} - {
        f["id"] for f in local if f["checks"] != ["diversity"]
    }


@pytest.mark.slow
def test_killed_worker_is_retried_and_the_audit_complete(
    tmp_path: Path, eval_file: Path, ray_cluster, small_batches, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _write(tmp_path / "corpus", CORPUS)
    local = _audit(corpus, tmp_path / "local", eval_file)
    flag = tmp_path / "die-once"
    flag.write_text("")
    monkeypatch.setenv(ray_engine.FAIL_ONCE_ENV, str(flag))
    assert _audit(corpus, tmp_path / "ray", eval_file, "--engine", "ray") == local
    assert not flag.exists()  # a worker did die (it removed the flag on its way out)


@pytest.mark.slow
def test_ray_engine_embeds_in_its_actors_and_writes_the_local_flags(
    tmp_path: Path, eval_file: Path, ray_cluster, small_batches
) -> None:
    """The static embedding stages (semantic dedup, contamination, the refusal classifier)
    run in the actor pool: the same flags as the local engine, and the paraphrases found."""
    corpus = _write(tmp_path / "corpus", CORPUS + PARAPHRASES)
    static = ("--embedding", "static")
    local = _audit(corpus, tmp_path / "local", eval_file, *static, no_embedding=False)
    ray = _audit(
        corpus, tmp_path / "ray", eval_file, "--engine", "ray", *static, no_embedding=False
    )
    assert ray == local
    assert {"para1", "para17"} <= {f["id"] for f in ray if "semantic_duplicate" in f["checks"]}


@pytest.mark.slow
def test_ray_engine_reads_a_parquet_corpus_on_the_cluster(
    tmp_path: Path, eval_file: Path, ray_cluster, small_batches
) -> None:
    from credo.corpora.columnar import write_parquet
    from credo.types import Record

    folder = tmp_path / "corpus"
    folder.mkdir()
    write_parquet([Record.from_json(r) for r in CORPUS], folder / "records.parquet")
    local = _audit(folder, tmp_path / "local", eval_file)
    assert _audit(folder, tmp_path / "ray", eval_file, "--engine", "ray") == local
    assert "near_duplicate" in {c for f in local for c in f["checks"]}


def test_unreachable_address_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
    code = _run(
        [
            "audit",
            str(corpus),
            "--out",
            str(tmp_path / "out"),
            "--engine",
            "ray",
            "--address",
            "127.0.0.1:1",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "127.0.0.1:1" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ray_engine_prints_progress_like_the_local_audit(
    tmp_path: Path,
    eval_file: Path,
    ray_cluster,
    small_batches,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    """Records done, records/s, ETA and the slowest checks while the actors map, read from the
    tally they add to (thresholds lowered so a small corpus speaks); `filter` too."""
    from credo.audit.progress import AuditProgress

    monkeypatch.setattr(AuditProgress, "EVERY", 0.0)
    monkeypatch.setattr(AuditProgress, "MIN_RECORDS", 0)
    monkeypatch.setattr(ray_engine, "POLL_SECONDS", 0.05)
    corpus = _write(tmp_path / "corpus", CORPUS)
    n = len(CORPUS)
    _audit(corpus, tmp_path / "ray", eval_file, "--engine", "ray")
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("audit: ")]
    mapped = [x for x in lines if "records (" in x]  # the others: a check folding its partials
    assert mapped[-1].startswith(f"audit: {n:,}/{n:,} records (100%), ")
    assert "records/s, ETA 0 s - slowest checks: " in mapped[-1]
    done = [int(x.split()[1].split("/")[0].replace(",", "")) for x in mapped]
    assert done == sorted(done) and max(done) == n  # counted up, never past the corpus
    assert any("combining the batches" in x for x in lines[lines.index(mapped[-1]) :])
    args = ["filter", str(corpus), "--eval", str(eval_file), "--no-embedding", "--engine", "ray"]
    assert _run([*args, "--out", str(tmp_path / "clean")]) == 0
    assert f"audit: {n:,}/{n:,} records (100%)" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_engine_refuses_repeated_ids_like_the_local_one(
    tmp_path: Path, ray_cluster, small_batches, capsys: pytest.CaptureFixture
) -> None:
    corpus = _write(tmp_path / "corpus", [*PLANTED, PLANTED[2]])
    code = _run(["audit", str(corpus), "--out", str(tmp_path / "out"), "--no-embedding",
                 "--engine", "ray"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and f"id '{PLANTED[2]['id']}' repeats" in err, err
    assert not (tmp_path / "out" / "flags.jsonl").exists()
