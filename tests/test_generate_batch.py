"""generate --batch through the real openai and anthropic SDKs against the fake batch APIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.cli.main import exit_code
from credo.corpora.io import read_records
from credo.errors import BackendError
from credo.generators.batch_api import chunk_lines
from credo.generators.batch_run import BatchOptions
from credo.generators.batch_state import STATE_FILE, read_state
from credo.generators.corpus_run import generate_corpus
from credo.generators.run_options import GenerateOptions
from credo.testing import REFUSAL_TEXT, BatchFaults, FakeServer

PROVIDERS = ["openai", "anthropic"]
ROOT = Path(__file__).resolve().parent.parent
PREFIX = "A faithful answer to: "


@pytest.fixture(autouse=True)
def _keys_and_small_chunks(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("CREDO_BATCH_MAX_REQUESTS", "4")  # 27 jobs -> 7 chunks


def _base(server: FakeServer, provider: str) -> str:
    return server.openai_base_url if provider == "openai" else server.anthropic_base_url


def _batch(spec, out, server, provider, *, wait=True, samples=3, log=None, **options):
    return generate_corpus(
        spec,
        out,
        options=GenerateOptions(
            model=f"{provider}/teacher",
            base_url=_base(server, provider),
            samples=samples,
            batch=True,
            **options,
        ),
        progress=False,
        batch_options=BatchOptions(
            wait=wait, poll_interval=0, report=[].append if log is None else log.append
        ),
    )


_cli = exit_code


def _records(out):
    return sorted((r.to_json() for r in read_records(out)), key=lambda r: r["id"])


def _assert_each_answer_matches_its_prompt(out):
    for record in read_records(out):
        user, assistant = record.messages
        assert assistant.content == PREFIX + user.content, record.id


@pytest.mark.parametrize("provider", PROVIDERS)
def test_partial_failures_and_a_lost_batch_lose_and_duplicate_nothing(
    provider, tiny_spec, tmp_path
):
    faults = BatchFaults(error_rate=0.2, expire_rate=0.15, vanish_batches={2}, seed=3)
    log: list[str] = []
    with FakeServer(batch_faults=faults) as server:
        result = _batch(tiny_spec, tmp_path / "c", server, provider, log=log)
        answered = [
            line["custom_id"] for b in server.batches.batches.values() for line in b.results or []
        ]
    records = _records(tmp_path / "c")
    assert len(records) == 27 == len({r["id"] for r in records})
    assert result.manifest["status"] == "complete" and result.manifest["counts"]["missing"] == 0
    _assert_each_answer_matches_its_prompt(tmp_path / "c")
    batch = result.manifest["last_run"]["batch"]
    assert batch["lost_batches"] == 1 and batch["chunks_submitted"] >= 8
    assert batch["results"]["errored"] + batch["results"]["expired"] > 0
    assert batch["results"]["ok"] == 27
    # counted from the result files: every answered line, whatever its kind
    assert result.manifest["last_run"]["requests"] == len(answered)
    assert any("unknown to" in line and "sent again" in line for line in log)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cache_is_keyed_per_job_across_chunks(provider, tiny_spec, tmp_path):
    """Each chunk's answers land under their own jobs' cache keys (never a neighbour's)."""
    with FakeServer(batch_faults=BatchFaults(error_rate=0.3, seed=1)) as server:
        _batch(tiny_spec, tmp_path / "batch", server, provider)
        server.fail_always = "400"  # an online rerun may only be served from the cache
        replay = generate_corpus(
            tiny_spec,
            tmp_path / "replay",
            options=GenerateOptions(
                model=f"{provider}/teacher", base_url=_base(server, provider), samples=3
            ),
            progress=False,
        )
    assert replay.manifest["last_run"]["cache_hits"] == 27
    assert replay.manifest["last_run"]["requests"] == 0
    assert _records(tmp_path / "replay") == _records(tmp_path / "batch")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_and_online_corpora_differ_only_in_provenance(provider, tiny_spec, tmp_path):
    prices = tmp_path / "prices.yaml"
    prices.write_text(f"{provider}/teacher: {{input: 1.0, output: 2.0}}\n")
    with FakeServer() as server:
        online = generate_corpus(
            tiny_spec,
            tmp_path / "online",
            options=GenerateOptions(
                model=f"{provider}/teacher",
                base_url=_base(server, provider),
                samples=3,
                use_cache=False,
                prices=prices,
            ),
            progress=False,
        )
        batch = _batch(
            tiny_spec, tmp_path / "batch", server, provider, use_cache=False, prices=prices
        )
    assert _records(tmp_path / "online") == _records(tmp_path / "batch")
    a, b = online.manifest, batch.manifest
    differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    assert differing <= {"config", "last_run", "provenance", "cost_usd"}
    assert {k for k in a["config"] if a["config"][k] != b["config"][k]} == {"out", "mode"}
    assert b["tokens"] == a["tokens"]
    assert b["cost_usd"] == pytest.approx(a["cost_usd"] / 2)
    assert b["last_run"]["cost_usd"] == pytest.approx(a["last_run"]["cost_usd"] / 2)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rerun_resumes_polling_instead_of_resubmitting(provider, tiny_spec, tmp_path):
    out = tmp_path / "c"
    with FakeServer() as server:
        first = _batch(tiny_spec, out, server, provider, wait=False)
        assert first.manifest["counts"]["records"] == 0
        sent = list(server.batches.created)
        state = read_state(out)
        assert [c.batch_id for c in state.chunks] == sent and len(sent) == 7
        second = _batch(tiny_spec, out, server, provider)
        assert server.batches.created == sent  # nothing was submitted twice
    assert second.manifest["status"] == "complete" and len(_records(out)) == 27
    assert all(c.state == "collected" for c in read_state(out).chunks)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_over_cap_input_is_split_never_rejected(provider, tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_BATCH_MAX_REQUESTS", "100")
    monkeypatch.setenv("CREDO_BATCH_MAX_BYTES", "3000")
    with FakeServer(batch_faults=BatchFaults(max_bytes=3000, max_requests=100)) as server:
        result = _batch(tiny_spec, tmp_path / "c", server, provider)
    chunks = read_state(tmp_path / "c").chunks
    assert len(chunks) >= 3 and all(c.bytes <= 0.95 * 3000 for c in chunks)
    assert result.manifest["status"] == "complete"
    assert not read_state(tmp_path / "c").invalid


def test_chunking_respects_both_caps():
    lines = [b"x" * 99] * 10
    assert chunk_lines(lines, 3, 10_000) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    chunks = chunk_lines(lines, 100, 600)  # 95% of 600 less a 64-byte envelope: 5 lines of 100
    assert [len(c) for c in chunks] == [5, 5]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rejected_request_is_reported_with_line_and_reason(provider, tiny_spec, tmp_path):
    faults = BatchFaults(reject_text="a shell I find")
    with FakeServer(batch_faults=faults) as server, pytest.raises(BackendError) as info:
        _batch(tiny_spec, tmp_path / "c", server, provider, samples=1)
    message = str(info.value)
    assert "rejected 1 request" in message and "line " in message
    assert "content is not allowed" in message and "rejected.txt" in message
    texts = {r["messages"][0]["content"] for r in _records(tmp_path / "c")}
    assert len(texts) == 8 and not any("shell" in t for t in texts)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_teacher_refusals_are_counted_as_online(provider, tiny_spec, tmp_path):
    def respond(messages):
        user = messages[-1]["content"]
        return REFUSAL_TEXT if "shell" in user else PREFIX + user

    with FakeServer(respond=respond) as server:
        batch = _batch(tiny_spec, tmp_path / "c", server, provider, samples=2)
        online = generate_corpus(
            tiny_spec,
            tmp_path / "o",
            options=GenerateOptions(
                model=f"{provider}/teacher",
                base_url=_base(server, provider),
                samples=2,
                use_cache=False,
            ),
            progress=False,
        )
    for manifest in (batch.manifest, online.manifest):
        assert manifest["counts"]["teacher_refusals"] == 2  # both samples of one prompt
        assert manifest["last_run"]["teacher_refusals"] == 2
        assert manifest["counts"]["records"] == 16
    assert batch.manifest["teacher_refusals"] == online.manifest["teacher_refusals"]


def test_batches_command_reports_a_vanished_batch_and_cancels(tiny_spec, tmp_path, capsys):
    out = tmp_path / "c"
    with FakeServer() as server:
        _batch(tiny_spec, out, server, "openai", wait=False)
        server.batches.forget(server.batches.created[0])
        assert _cli(["batches", str(out)]) == 0
        text = capsys.readouterr().out
        assert "chunk-0001" in text and "unknown to the provider" in text
        assert _cli(["batches", str(out), "--cancel", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
    states = [c.get("live_state") for c in report["chunks"]]
    assert states[0] == "unknown" and set(states[1:]) <= {"cancelling", "cancelled"}
    assert all(c.get("cancel_requested") for c in report["chunks"])


def test_batches_command_without_a_batch_folder_exits_2(tmp_path, capsys):
    assert _cli(["batches", str(tmp_path)]) == 2
    assert STATE_FILE in capsys.readouterr().err


def test_batch_mode_needs_a_batch_provider_and_names_a_missing_key(
    tiny_spec, tmp_path, monkeypatch
):
    with pytest.raises(BackendError, match="needs a provider with a batch API"):
        generate_corpus(
            tiny_spec,
            tmp_path / "a",
            options=GenerateOptions(model="fake/echo", batch=True),
            progress=False,
        )
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(BackendError, match="ANTHROPIC_API_KEY"):
        generate_corpus(
            tiny_spec,
            tmp_path / "b",
            options=GenerateOptions(model="anthropic/teacher", batch=True),
            progress=False,
        )


@pytest.mark.needs("openai")  # the CLI reports the missing package as exit 2
def test_kill_9_while_polling_then_rerun_resumes_without_resubmitting(tiny_spec, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "c"
    with FakeServer() as server:
        command = [
            sys.executable,
            "-m",
            "credo.cli.main",
            "generate",
            str(tiny_spec),
            "--model",
            "openai/teacher",
            "--base-url",
            server.openai_base_url,
            "--samples",
            "3",
            "--out",
            str(out),
            "--batch",
            "--poll-interval",
            "60",
        ]
        process = subprocess.Popen(
            command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        try:
            for line in process.stderr:  # the last chunk is sent: the run now sleeps to poll
                if line.startswith("chunk-0007:"):
                    break
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait()
        sent = list(server.batches.created)
        assert len(sent) == 7
        result = _batch(tiny_spec, out, server, "openai")
        assert server.batches.created == sent
    assert result.manifest["status"] == "complete" and len(_records(out)) == 27


def test_requests_are_validated_before_upload():
    from credo.generators.batch_run import validate_requests

    good = json.dumps(
        {
            "custom_id": "a",
            "body": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "q"}]},
        }
    )
    validate_requests(["a"], [good.encode()])
    with pytest.raises(BackendError, match="duplicate custom_id"):
        validate_requests(["a", "a"], [good.encode()] * 2)
    with pytest.raises(BackendError, match="is not 1-64"):
        validate_requests(["b2:abc"], [good.encode()])
    with pytest.raises(BackendError, match="lacks model"):
        validate_requests(["a"], [b'{"custom_id": "a", "params": {"model": "m"}}'])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_batch_expiring_midway_keeps_its_answers_and_resends_the_rest(
    provider, tiny_spec, tmp_path
):
    with FakeServer(batch_faults=BatchFaults(expire_batches={1})) as server:
        result = _batch(tiny_spec, tmp_path / "c", server, provider, samples=1)
        first = server.batches.batches[server.batches.created[0]]
    assert first.status in ("expired", "ended")
    assert result.manifest["last_run"]["batch"]["results"]["expired"] == 2  # half of chunk 1
    assert result.manifest["status"] == "complete" and len(_records(tmp_path / "c")) == 9
    _assert_each_answer_matches_its_prompt(tmp_path / "c")
