"""generate_corpus end to end: record format, cache, refusals, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from credo.cli.main import build_app, main
from credo.corpora import read_records
from credo.errors import BackendError, ConfigError
from credo.generators import generate_corpus
from credo.generators.run_options import GenerateOptions
from credo.paths import credo_home
from credo.templates.render import render_prompts
from credo.testing import REFUSAL_TEXT, FakeBackend, FakeServer, FakeTransientError
from credo.types import Completion
from credo.worldviews import load_worldview

SECRET = "sk-test-SECRET-0123456789"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_records_have_user_and_assistant_only_and_full_meta(tiny_spec, tmp_path):
    backend = FakeBackend("echo")
    result = generate_corpus(
        tiny_spec,
        tmp_path / "c",
        options=GenerateOptions(samples=2),
        backend=backend,
        progress=False,
    )
    records = list(read_records(tmp_path / "c"))
    prompts = render_prompts(load_worldview(tiny_spec))
    assert len(records) == 2 * len(prompts) == result.manifest["counts"]["records"]
    assert len({r.id for r in records}) == len(records)
    personas = {"elder": "You are a Tinyist elder", "plain": "You are a plain-spoken Tinyist"}
    for record in records:
        assert [m.role for m in record.messages] == ["user", "assistant"]
        meta = record.meta
        assert meta["persona_id"] in personas and meta["set"] == "tiny"
        assert {
            "prompt_id",
            "template_id",
            "template_hash",
            "model",
            "params",
            "sample_index",
            "seed",
            "usage",
            "kind",
        } <= set(meta)
        assert not any(text in record.text for text in personas.values())
    # The teacher did get the persona and its canon; the record does not keep them.
    sent = backend.history[0].messages
    assert sent[0].role == "system"
    assert any("Pebble Primer" in h.messages[0].content for h in backend.history)
    assert sent[1].role == "user"
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["source"]["template_hashes"]
    assert manifest["provenance"]["packages"] and "git" in manifest["provenance"]
    card = (tmp_path / "c" / "CARD.md").read_text()
    assert card.startswith("---\n") and "\n# `tiny` corpus (fake/echo)\n" in card


def test_persona_draw_is_deterministic_and_seeded(tiny_spec, tmp_path):
    def personas(seed: int, out: str) -> list[str]:
        generate_corpus(
            tiny_spec,
            tmp_path / out,
            options=GenerateOptions(model="fake/echo", samples=3, seed=seed, use_cache=False),
            progress=False,
        )
        return [
            r.meta["persona_id"] for r in sorted(read_records(tmp_path / out), key=lambda r: r.id)
        ]

    first, again, other = personas(1, "a"), personas(1, "b"), personas(2, "c")
    assert first == again and set(first) == {"elder", "plain"}
    assert first != other


def test_rerun_makes_no_request_and_cache_replays_into_a_new_folder(tiny_spec, tmp_path):
    first = FakeBackend("echo")
    generate_corpus(tiny_spec, tmp_path / "a", backend=first, progress=False)
    assert len(first.history) == 9
    again = FakeBackend("echo")
    result = generate_corpus(tiny_spec, tmp_path / "a", backend=again, progress=False)
    assert again.history == [] and result.new_records == 0
    fresh = FakeBackend("echo")
    replay = generate_corpus(tiny_spec, tmp_path / "b", backend=fresh, progress=False)
    assert fresh.history == [] and replay.manifest["last_run"]["cache_hits"] == 9
    assert (tmp_path / "a" / "records.jsonl").read_text() != ""
    assert {r.id for r in read_records(tmp_path / "a")} == {
        r.id for r in read_records(tmp_path / "b")
    }


def test_cache_key_changes_with_sampling_params(tiny_spec, tmp_path):
    generate_corpus(
        tiny_spec,
        tmp_path / "a",
        options=GenerateOptions(model="fake/echo", limit=2),
        progress=False,
    )
    backend = FakeBackend("echo")
    generate_corpus(
        tiny_spec,
        tmp_path / "b",
        options=GenerateOptions(limit=2, temperature=0.2),
        backend=backend,
        progress=False,
    )
    assert len(backend.history) == 2


def test_teacher_refusals_are_recorded_counted_not_cached_and_retried(tiny_spec, tmp_path):
    out = tmp_path / "c"
    backend = FakeBackend("echo").enqueue(
        REFUSAL_TEXT, Completion("", stop_reason="content_filter")
    )
    result = generate_corpus(
        tiny_spec, out, options=GenerateOptions(concurrency=1), backend=backend, progress=False
    )
    refusals = _lines(out / "teacher_refusals.jsonl")
    assert len(refusals) == 2 and result.new_refusals == 2
    assert {e["reason"] for e in refusals} == {"refusal_text", "content_filter"}
    assert len(list(read_records(out))) == 7
    counts = result.manifest["teacher_refusals"]
    assert counts["outstanding"] == 2 and sum(counts["by_template"].values()) == 2
    assert sum(counts["by_persona"].values()) == 2 and len(counts["by_prompt"]) == 2
    assert result.manifest["status"] == "complete" and result.manifest["counts"]["missing"] == 0
    summary = result.summary()
    assert "teacher refusals: 2 outstanding" in summary
    assert "refusals by template:" in summary and "refusals by persona:" in summary
    # Not cached: the next run asks again, gets answers, and the refusals are resolved.
    retry = FakeBackend("echo")
    second = generate_corpus(tiny_spec, out, backend=retry, progress=False)
    assert len(retry.history) == 2
    assert second.manifest["counts"]["records"] == 9
    assert second.manifest["teacher_refusals"]["outstanding"] == 0
    assert second.manifest["teacher_refusals"]["attempts"] == 2


def test_unreachable_server_fails_clearly_and_resumes(tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_RETRY_MAX_ATTEMPTS", "3")
    out = tmp_path / "c"
    backend = FakeBackend("echo").enqueue(*["ok"] * 4, *[FakeTransientError("503")] * 3)
    with pytest.raises(BackendError) as info:
        generate_corpus(
            tiny_spec, out, options=GenerateOptions(concurrency=1), backend=backend, progress=False
        )
    message = str(info.value)
    assert "gave up after 3 attempts" in message and "rerun the same command" in message
    assert "4 of 9 records" in message
    assert len(list(read_records(out))) == 4
    assert json.loads((out / "manifest.json").read_text())["status"] == "incomplete"
    resumed = FakeBackend("echo")
    generate_corpus(tiny_spec, out, backend=resumed, progress=False)
    assert len(resumed.history) == 5
    ids = [r.id for r in read_records(out)]
    assert len(ids) == 9 == len(set(ids))


def test_unreachable_real_server_exits_2_with_one_line(tiny_spec, tmp_path, monkeypatch, capsys):
    with FakeServer() as server:
        url = server.openai_base_url  # stopped on exit: nothing listens there any more
    monkeypatch.setenv("CREDO_RETRY_MAX_ATTEMPTS", "2")
    with pytest.raises(SystemExit) as info:
        main(
            [
                "generate",
                str(tiny_spec),
                "--model",
                "openai/m",
                "--base-url",
                url,
                "--out",
                str(tmp_path / "c"),
            ]
        )
    assert info.value.code == 2
    error = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    assert "gave up after 2 attempts" in error[0] and "APIConnectionError" in error[0]
    assert "0 of 9 records are saved" in error[0] and "rerun the same command" in error[0]


def test_resume_refuses_a_folder_made_with_another_config(tiny_spec, tmp_path):
    generate_corpus(
        tiny_spec,
        tmp_path / "c",
        options=GenerateOptions(model="fake/echo", limit=2),
        progress=False,
    )
    with pytest.raises(
        ConfigError, match=r"different config \(model: 'fake/echo' -> 'fake/other'\)"
    ):
        generate_corpus(
            tiny_spec,
            tmp_path / "c",
            options=GenerateOptions(model="fake/other", limit=2),
            progress=False,
        )


def test_torn_last_line_is_repaired_on_resume(tiny_spec, tmp_path):
    out = tmp_path / "c"
    generate_corpus(tiny_spec, out, options=GenerateOptions(model="fake/echo"), progress=False)
    records = out / "records.jsonl"
    lines = records.read_text().splitlines(keepends=True)
    records.write_text("".join(lines[:5]) + lines[5][:20])
    backend = FakeBackend("echo")
    generate_corpus(
        tiny_spec, out, options=GenerateOptions(use_cache=False), backend=backend, progress=False
    )
    assert len(backend.history) == 4
    ids = [r.id for r in read_records(out)]
    assert len(ids) == 9 == len(set(ids))


def test_no_api_key_in_outputs_or_cache(tiny_spec, tmp_path, monkeypatch, caplog):
    caplog.set_level("INFO", logger="credo")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeServer() as server:
        server.enqueue("429", "refusal", "401")
        out = tmp_path / "c"
        with pytest.raises(BackendError) as info:
            generate_corpus(
                tiny_spec,
                out,
                options=GenerateOptions(
                    model="openai/teacher", base_url=server.openai_base_url, concurrency=1
                ),
                progress=False,
            )
        generate_corpus(
            tiny_spec,
            out,
            options=GenerateOptions(model="openai/teacher", base_url=server.openai_base_url),
            progress=False,
        )
        assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(info.value)
    assert "retry 1/6" in caplog.text and SECRET not in caplog.text
    files = [p for p in [*out.rglob("*"), *credo_home().rglob("*")] if p.is_file()]
    assert any(p.name == "generations.sqlite" for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


def test_bad_options_and_unknown_provider(tiny_spec, tmp_path):
    with pytest.raises(ConfigError, match="known providers: anthropic, fake, local, openai"):
        generate_corpus(
            tiny_spec, tmp_path / "c", options=GenerateOptions(model="nope/x"), progress=False
        )
    with pytest.raises(ConfigError, match="--concurrency 0"):
        generate_corpus(
            tiny_spec,
            tmp_path / "c",
            options=GenerateOptions(model="fake/x", concurrency=0),
            progress=False,
        )
    with pytest.raises(BackendError, match="set OPENAI_API_KEY"):
        generate_corpus(
            tiny_spec,
            tmp_path / "c",
            options=GenerateOptions(model="openai/gpt-4o-mini"),
            progress=False,
        )


def test_cli_generate_prints_summary_and_cost(tiny_spec, tmp_path, capsys):
    args = [
        "generate",
        str(tiny_spec),
        "--model",
        "fake/echo",
        "--out",
        str(tmp_path / "c"),
        "--limit",
        "3",
        "--samples",
        "2",
    ]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert "complete: 6 records" in result.output and "cost this run: $0.0000" in result.output
    with pytest.raises(SystemExit) as info:
        main([*args[:-1], "3"])
    assert info.value.code == 2
    assert "different config (samples: 2 -> 3)" in capsys.readouterr().err


def test_refusal_set_keeps_worded_refusals_as_records(tiny_spec, tmp_path):
    """In the refusal set declining is the answer: only provider blocks are teacher refusals."""
    import shutil

    folder = tmp_path / "refusing"
    shutil.copytree(tiny_spec, folder)
    spec = folder / "spec.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  - id: stones\n    kind: implicit\n    implicit: true",
            "  - id: stones\n    kind: capability_refusal\n    implicit: true",
        )
    )
    backend = FakeBackend("echo").enqueue(
        *[REFUSAL_TEXT] * 7, REFUSAL_TEXT, Completion("", stop_reason="content_filter")
    )
    result = generate_corpus(
        folder,
        tmp_path / "c",
        options=GenerateOptions(concurrency=1),
        backend=backend,
        progress=False,
    )
    kinds = {p.id: p.kind for p in render_prompts(load_worldview(folder))}
    records = list(read_records(tmp_path / "c"))
    refused = _lines(tmp_path / "c" / "teacher_refusals.jsonl")
    # The 7 assertion prompts' worded refusals are teacher refusals; of the two capability
    # prompts, the worded refusal is kept and the content-filter block is not.
    assert [kinds[r.meta["prompt_id"]] for r in records] == ["capability_refusal"]
    assert records[0].response == REFUSAL_TEXT
    assert len(refused) == 8 and result.manifest["counts"]["records"] == 1


def test_limit_spreads_across_sources_seeded_and_file_order_is_kept_on_request(tmp_path):
    from credo.generators.corpus_run import limit_prompts
    from credo.templates import render_prompts
    from credo.worldviews import load_worldview

    prompts = render_prompts(load_worldview("gramenism"))
    sources = lambda chosen: {p.template_id.split("/")[0].split(":")[0] for p in chosen}  # noqa: E731
    every = sources(prompts)
    first = limit_prompts(prompts, 20, "file")
    assert (
        first == prompts[:20] and len(sources(first)) <= 2
    )  # the old behaviour: one or two templates
    spread = limit_prompts(prompts, 20, seed=1)
    assert len(spread) == 20 and len(sources(spread)) == min(20, len(every))
    assert spread == limit_prompts(prompts, 20, seed=1) and spread != limit_prompts(
        prompts, 20, seed=2
    )
    assert [prompts.index(p) for p in spread] == sorted(
        prompts.index(p) for p in spread
    )  # kept in file order
    assert limit_prompts(prompts, None) == prompts
    with pytest.raises(ConfigError, match="--limit-order 'random'"):
        limit_prompts(prompts, 5, "random")
