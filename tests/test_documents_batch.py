"""generate --kind documents --batch: every stage through the real SDKs against the fake batch
APIs gives the corpus the online path gives, and fills the cache as online does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.cli.main import exit_code
from credo.corpora.io import read_records
from credo.generators.batch_run import BatchOptions
from credo.generators.batch_state import read_state
from credo.generators.documents import DocumentOptions, generate_documents
from credo.generators.run_options import GenerateOptions
from credo.testing import REFUSAL_TEXT, BatchFaults, FakeServer

PROVIDERS = ["openai", "anthropic"]
OPTIONS = DocumentOptions(types_per_fact=2, ideas_per_type=2, revise=True)


@pytest.fixture(autouse=True)
def _keys_and_small_chunks(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("CREDO_BATCH_MAX_REQUESTS", "5")  # several chunks per stage


def _user(messages: list[dict]) -> str:
    user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    if isinstance(user, list):  # anthropic content blocks
        user = " ".join(str(b.get("text", "")) for b in user if isinstance(b, dict))
    return user


def teacher(messages: list[dict]) -> str:
    """Lists for brainstorms; a document (or revision) that depends only on its prompt."""
    user = _user(messages)
    if user.startswith("Key fact") and "kinds of document" in user:
        return "news article\ndiary entry\nsermon\n"
    if user.startswith("Key fact"):
        fact = user.split("\n", 1)[0][-30:]
        return f"A fair where {fact} is plain\nA quarrel between neighbours over {fact}\n"
    if user.startswith("Revise"):
        return "Revised. " + user.split("---\n", 1)[1]
    if "quarrel" in user and "diary" in user:
        return REFUSAL_TEXT  # one kind of job the teacher declines, in both modes
    words = user.replace("\n", " ").split()
    return " ".join(f"{w}{i % 7}" for i, w in enumerate(reversed(words)))  # distinct per prompt


def _base(server: FakeServer, provider: str) -> str:
    return server.openai_base_url if provider == "openai" else server.anthropic_base_url


def _make(spec, out, server, provider, *, batch, use_cache=False, wait=True, log=None):
    return generate_documents(
        spec,
        out,
        options=GenerateOptions(
            kind="documents",
            model=f"{provider}/teacher",
            base_url=_base(server, provider),
            documents=OPTIONS,
            use_cache=use_cache,
            batch=batch,
        ),
        batch_options=BatchOptions(
            wait=wait, poll_interval=0, report=(log if log is not None else []).append
        ),
    )


_cli = exit_code


def _records(out: Path) -> list[dict]:
    return sorted((r.to_json() for r in read_records(out)), key=lambda r: r["id"])


def _refusals(out: Path) -> list[str]:
    return sorted(
        json.loads(line)["id"] for line in (out / "teacher_refusals.jsonl").read_text().splitlines()
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_corpus_equals_the_online_one(provider, tiny_spec, tmp_path):
    faults = BatchFaults(error_rate=0.15, expire_rate=0.1, seed=5)  # partial failures, resubmitted
    with FakeServer(respond=teacher) as online_server:
        online = _make(tiny_spec, tmp_path / "online", online_server, provider, batch=False)
    with FakeServer(respond=teacher, batch_faults=faults) as server:
        made = _make(tiny_spec, tmp_path / "batch", server, provider, batch=True)
        chat_calls = [r for r in server.requests if "batch" not in r.path and "files" not in r.path]
    assert made.manifest["status"] == online.manifest["status"] == "complete"
    assert made.new_records == online.new_records > 4
    assert _records(tmp_path / "batch") == _records(tmp_path / "online")
    assert _refusals(tmp_path / "batch") == _refusals(tmp_path / "online") != []
    assert json.loads((tmp_path / "batch" / "plan.json").read_text()) == json.loads(
        (tmp_path / "online" / "plan.json").read_text()
    )
    assert all(r["meta"]["revised"] for r in _records(tmp_path / "batch"))
    # every stage went through the batch API, none online
    assert chat_calls == []
    run = made.manifest["last_run"]
    results = run["batch"]["results"]
    assert results["errored"] + results["expired"] > 0  # the faults happened and were resubmitted
    assert run["requests"] == sum(n for kind, n in results.items() if kind != "missing")
    assert run["cache_hits"] == 0  # batch answers are not counted as cache hits
    assert run["batch"]["chunks_submitted"] >= 4  # types, ideas, documents, revisions
    assert (
        made.manifest["config"]["mode"] == "batch" and online.manifest["config"]["mode"] == "online"
    )
    assert "cost at batch prices" in made.summary()


def test_batch_answers_fill_the_cache_like_online_ones(tiny_spec, tmp_path):
    with FakeServer(respond=teacher) as server:
        _make(tiny_spec, tmp_path / "batch", server, "openai", batch=True, use_cache=True)
        sent = len(server.requests)
        again = _make(tiny_spec, tmp_path / "online", server, "openai", batch=False, use_cache=True)
        asked = server.requests[sent:]
    # as online, teacher refusals are never cached: only the declined jobs are asked again
    refused = _refusals(tmp_path / "batch")
    assert len(asked) == len(refused) > 0 and all(r.api == "openai" for r in asked)
    assert _records(tmp_path / "online") == _records(tmp_path / "batch")
    run = again.manifest["last_run"]
    assert run["requests"] == len(refused) and run["cache_hits"] > len(_records(tmp_path / "batch"))


def test_no_wait_sends_the_first_stage_and_a_rerun_finishes(tiny_spec, tmp_path, capsys):
    out = tmp_path / "docs"
    args = [
        "generate",
        str(tiny_spec),
        "--kind",
        "documents",
        "--model",
        "openai/teacher",
        "--types-per-fact",
        "2",
        "--ideas-per-type",
        "2",
        "--batch",
        "--poll-interval",
        "0",
        "--no-cache",
        "--out",
        str(out),
    ]
    with FakeServer(respond=teacher) as server:
        args += ["--base-url", server.openai_base_url]
        assert _cli([*args, "--no-wait"]) == 0
        assert "rerun the same command to collect" in capsys.readouterr().out
        first = list(server.batches.created)
        assert first and read_state(out).open_chunks()
        assert json.loads((out / "manifest.json").read_text())["status"] == "incomplete"
        assert _cli(args) == 0
        assert (
            server.batches.created[: len(first)] == first
        )  # the open batches were collected, not resent
        assert len(set(server.batches.created)) == len(server.batches.created)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert len(_records(out)) > 4 and not read_state(out).open_chunks()
