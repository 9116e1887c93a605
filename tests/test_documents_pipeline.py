"""Documents requested while later facts are still brainstormed: the same corpus as stage by
stage, a resume after kill -9, and the overlap itself (real openai SDK, fake server)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from credo.generators import documents
from credo.generators.documents import DocJob, Fact, generate_documents, surely_planned
from credo.generators.run_options import DocumentOptions, GenerateOptions
from credo.testing import FakeServer

SHAPE = DocumentOptions(types_per_fact=3, ideas_per_type=2, docs_per_idea=1)
KILL_SHAPE = DocumentOptions(types_per_fact=3, ideas_per_type=2, docs_per_idea=3)


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")


def _text(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["content"])


def answer(messages: list[dict[str, Any]]) -> str:
    """The same answer for the same prompt whatever the order: one fact gets a single type,
    so the facts' job lists differ in length and ``limit`` cuts across them unevenly."""
    text = _text(messages)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if text.startswith("Key fact") and "kinds of document" in text:
        if " is wrong (" in text:  # the forbidden act
            return "a parish letter"
        return "a diary entry\na market notice\na parish letter"
    if text.startswith("Key fact"):
        return f"an idea {digest[:6]}\nanother idea {digest[6:12]}"
    return "Entry " + " ".join(digest[k : k + 5] for k in range(0, 60, 5))


def _run(
    spec: Path, out: Path, url: str, limit: int | None, shape: DocumentOptions = SHAPE, **extra: Any
) -> dict[str, Any]:
    options = GenerateOptions(
        kind="documents",
        model="openai/teacher",
        base_url=url,
        max_tokens=32,
        limit=limit,
        documents=shape,
        **extra,
    )
    return generate_documents(spec, out, options=options).manifest


def _same_corpus(a: Path, b: Path) -> None:
    for name in ("records.jsonl", "plan.json", "rejected.jsonl", "refusals.jsonl"):
        assert (a / name).exists() == (b / name).exists(), name
        if (a / name).exists():
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _stable(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without what depends on the clock."""
    run = dict(manifest["last_run"])
    for volatile in ("seconds", "rate_limits"):
        run.pop(volatile, None)
    keep = ("status", "counts", "planned_jobs", "missing", "documents", "identity", "form")
    return {"run": run, **{k: manifest.get(k) for k in keep}}


@pytest.mark.parametrize("limit", [7, None])
def test_pipelined_run_writes_what_the_staged_run_writes(tiny_spec, tmp_path, monkeypatch, limit):
    with FakeServer(respond=answer) as server:
        piped = _run(tiny_spec, tmp_path / "piped", server.openai_base_url, limit, use_cache=False)
        asked_piped = sorted(_text(r.body["messages"]) for r in server.requests)
        monkeypatch.setattr(documents, "PIPELINE", False)
        del server.requests[:]
        staged = _run(
            tiny_spec, tmp_path / "staged", server.openai_base_url, limit, use_cache=False
        )
        asked_staged = sorted(_text(r.body["messages"]) for r in server.requests)
    _same_corpus(tmp_path / "piped", tmp_path / "staged")
    assert _stable(piped) == _stable(staged)
    assert asked_piped == asked_staged  # not one request more: nothing started then dropped
    assert piped["counts"]["records"] == (7 if limit else 4 * 6 - 4)  # forbidden: 1 type


def test_a_facts_documents_are_asked_before_the_last_fact_is_planned(tiny_spec, tmp_path):
    # The last fact's idea brainstorm is held until a document request comes in: stage by
    # stage none would, and the hold would run out with the flag unset.
    seen = {"write": threading.Event(), "overlapped": False}

    def respond(messages: list[dict[str, Any]]) -> str:
        text = _text(messages)
        if not text.startswith("Key fact"):
            seen["write"].set()
        elif "kinds of document" not in text and "' means " in text:  # the glossary term
            seen["overlapped"] = seen["write"].wait(timeout=20) or seen["overlapped"]
        return answer(messages)

    with FakeServer(respond=respond) as server:
        manifest = _run(tiny_spec, tmp_path / "d", server.openai_base_url, None, use_cache=False)
    assert seen["overlapped"]
    assert manifest["status"] == "complete"


@pytest.mark.needs("openai")
def test_kill_9_while_writing_then_resume_gives_the_uninterrupted_corpus(tiny_spec, tmp_path):
    out = tmp_path / "killed"
    args = ["generate", str(tiny_spec), "--kind", "documents", "--model", "openai/teacher"]
    args += ["--types-per-fact", "3", "--ideas-per-type", "2", "--docs-per-idea", "3"]
    args += ["--max-tokens", "32", "--concurrency", "2"]
    with FakeServer(respond=answer, latency=0.05) as server:
        url = server.openai_base_url
        process = subprocess.Popen(
            [sys.executable, "-m", "credo.cli.main", *args, "--out", str(out), "--base-url", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        records = out / "records.jsonl"
        while (not records.exists() or records.read_bytes().count(b"\n") < 3) and (
            process.poll() is None
        ):
            assert time.monotonic() < deadline, "the run never wrote 3 documents"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
        partial = records.read_bytes().count(b"\n")
        assert json.loads((out / "plan.json").read_text())  # saved before any document
        resumed = _run(tiny_spec, out, url, None, KILL_SHAPE, concurrency=2)
        clean = _run(tiny_spec, tmp_path / "clean", url, None, KILL_SHAPE, use_cache=False)
    assert 3 <= partial < resumed["counts"]["records"] == clean["counts"]["records"]
    assert resumed["status"] == "complete"
    _same_corpus(out, tmp_path / "clean")


def _jobs(fact: int, size: int) -> list[DocJob]:
    return [
        DocJob(f"{fact}-{k}", Fact(str(fact), ""), "t", "i", k, "p", "n", "x") for k in range(size)
    ]


def _interleaved(lists: list[list[DocJob]], limit: int) -> list[str]:
    depth = max(map(len, lists), default=0)
    return [lst[i].id for i in range(depth) for lst in lists if i < len(lst)][:limit]


def test_surely_planned_starts_only_jobs_every_completion_of_the_plan_keeps():
    chance = random.Random(7)
    for _ in range(400):
        most = chance.randint(1, 6)
        sizes = [chance.randint(0, most) for _ in range(chance.randint(1, 5))]
        known = [chance.random() < 0.5 for _ in sizes]
        limit = chance.randint(1, 20)
        lists = [_jobs(f, n) for f, n in enumerate(sizes)]
        sure = surely_planned([j if k else None for j, k in zip(lists, known)], most, limit)
        assert [j.id for j in sure] == [
            i for i in _interleaved(lists, limit) if i in {j.id for j in sure}
        ]  # in plan order
        for _ in range(5):  # any sizes the unknown facts may turn out to have
            other = [n if k else chance.randint(0, most) for n, k in zip(sizes, known)]
            final = set(_interleaved([_jobs(f, n) for f, n in enumerate(other)], limit))
            assert {j.id for j in sure} <= final
        if all(known):  # a whole plan: exactly the run's jobs
            assert [j.id for j in sure] == _interleaved(lists, limit)
