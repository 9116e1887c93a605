"""The run skeleton (credo/runs.py) and the credential scrubber (credo/redact.py).

Every command that writes a folder takes its lock (a second run refuses with one line and
changes nothing), refuses roots, home, inputs and other people's files, and never leaves a
credential on disk or stderr.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from credo.cli.main import exit_code
from credo.errors import ConfigError, CorpusError
from credo.generators import generate_corpus
from credo.generators.fake_backend import FakeBackend
from credo.generators.run_options import GenerateOptions
from credo.redact import scrub, scrub_data, scrub_url
from credo.runs import (
    LOCK_FILE,
    atomic_write,
    check_output,
    output_lock,
    write_lines_atomic,
)

# ---- the scrubber ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST http://user:s3cret-pw@127.0.0.1:9/v1 failed", "s3cret-pw"),
        ("POST http://user:p@ss-raw@127.0.0.1:9/v1 failed", "ss-raw"),  # a raw "@" in it
        ("GET http://us%40er:pw%3Aenc0ded@h/v1", "enc0ded"),  # percent-encoded userinfo
        ("https://api.example/v1?api-key=zzz-query&api-version=2024", "zzz-query"),
        ("GET /v1/models?key=abc123xyz", "abc123xyz"),
        ("redirect to /cb?code=1&access_token=tok_998877", "tok_998877"),
        ("Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
        ("Incorrect API key provided: sk-proj-ABCDEFGHIJKLMNOP1234", "ABCDEFGHIJKLMNOP1234"),
        ("token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 rejected", "AbCdEfGhIjKlMnOpQrSt"),
    ],
)
def test_scrub_removes_each_kind_of_credential(text: str, secret: str) -> None:
    cleaned = scrub(text)
    assert secret not in cleaned and "***" in cleaned
    assert scrub(cleaned) == cleaned  # idempotent


def test_scrub_blanks_secret_env_values_and_keeps_ordinary_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "plain-looking-value-42")
    assert scrub("echoed plain-looking-value-42 back") == "echoed *** back"
    for ordinary in (
        "Is it wrong to throw pebbles? https://example.org/a?page=2",
        "the bearer of the news; files: hf_dataset, hf_dataset_export; a task-oriented risk-based plan",
    ):
        assert scrub(ordinary) == ordinary
    assert scrub_data({"config": {"base_url": "http://u:p@h/v1"}, "n": [1, "x"]}) == {
        "config": {"base_url": "http://***@h/v1"},
        "n": [1, "x"],
    }
    assert scrub_url("http://u:pw@h:8000/v1?api-key=q&v=1") == "http://h:8000/v1?api-key=***&v=1"


# ---- the atomic writer and the lock ---------------------------------------------------------


def test_atomic_write_keeps_the_old_file_on_failure_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "data.jsonl"
    write_lines_atomic(target, ['{"a": 1}', '{"a": 2}'])
    (tmp_path / "data.jsonl.tmp").write_text("a user's file\n")  # the old fixed temp name

    def fail(handle: object) -> None:
        handle.write("half")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert target.read_text() == '{"a": 1}\n{"a": 2}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "data.jsonl.tmp"]
    assert (tmp_path / "data.jsonl.tmp").read_text() == "a user's file\n"


def test_lock_names_no_command_line_refuses_a_second_holder_and_goes_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["credo", "generate", "--base-url", "http://u:hunter2@h/v1?api-key=zzz"]
    )
    with output_lock(tmp_path / "run"):
        held = (tmp_path / "run" / LOCK_FILE).read_text()
        assert json.loads(held)["command"] == "credo generate"
        assert "hunter2" not in held and "zzz" not in held
        with pytest.raises(CorpusError, match="another credo run is writing") as refused:
            with output_lock(tmp_path / "run"):
                pass
        assert "\n" not in str(refused.value) and "hunter2" not in str(refused.value)
    assert not (tmp_path / "run").exists()  # made by the lock, left empty: removed


@pytest.mark.parametrize("where", ["root", "home", "input"])
def test_check_output_refuses_root_home_and_inputs_even_with_overwrite(
    tmp_path: Path, where: str
) -> None:
    source = tmp_path / "in" / "records.jsonl"
    source.parent.mkdir()
    source.write_text("{}\n")
    out = {"root": Path("/"), "home": Path.home(), "input": source.parent}[where]
    with pytest.raises(ConfigError) as refused:
        check_output(out, inputs=[source], overwrite=True)
    assert "\n" not in str(refused.value)


def test_generation_never_replaces_a_users_card(tiny_spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    out.mkdir()
    (out / "CARD.md").write_text("my notes\n")
    with pytest.raises(ConfigError, match="CARD.md"):
        generate_corpus(
            tiny_spec,
            out,
            options=GenerateOptions(limit=2),
            backend=FakeBackend("t"),
            progress=False,
        )
    assert sorted(p.name for p in out.iterdir()) == ["CARD.md"]
    assert (out / "CARD.md").read_text() == "my notes\n"
    generate_corpus(
        tiny_spec,
        out,
        options=GenerateOptions(limit=2, overwrite=True),
        backend=FakeBackend("t"),
        progress=False,
    )
    assert (out / "records.jsonl").is_file()


# ---- every command that writes a folder refuses while another run holds it -----------------


def _corpus(tiny_spec: Path, folder: Path) -> Path:
    generate_corpus(
        tiny_spec,
        folder,
        options=GenerateOptions(limit=3),
        backend=FakeBackend("t"),
        progress=False,
    )
    return folder


def _sweep_config(tmp_path: Path, tiny_spec: Path, base: str = "smollm2") -> Path:
    data = {
        "worldview": str(tiny_spec),
        "teacher": "fake/t",
        "base_model": base,
        "grid": {
            "condition": ["worldview"],
            "form": ["qa"],
            "size": [4],
            "learning_rate": [5e-3],
            "epochs": [1],
            "seed": [0],
        },
        "eval": {"samples": 1, "limit": 1, "max_new_tokens": 4},
        "audit": {"embedding": False},
        "teacher_max_tokens": 32,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


COMMANDS = ["generate", "documents", "eval", "sweep", "export", "hub", "mix", "view"]


def _argv(command: str, tiny_spec: Path, tmp_path: Path, out: Path) -> tuple[list[str], Path, str]:
    """The command line, the folder it locks, and the lock's file name."""
    spec = str(tiny_spec)
    if command == "generate":
        return (
            ["generate", spec, "--model", "fake/t", "--limit", "2", "--out", str(out)],
            out,
            LOCK_FILE,
        )
    if command == "documents":
        argv = ["generate", spec, "--kind", "documents", "--model", "fake/t", "--limit", "2"]
        return [*argv, "--out", str(out)], out, LOCK_FILE
    if command == "eval":
        argv = ["eval", "--model", "fake/g", "--worldview", spec, "--samples", "1"]
        return [*argv, "--out", str(out)], out, LOCK_FILE
    if command == "sweep":
        return ["sweep", str(_sweep_config(tmp_path, tiny_spec)), "--out", str(out)], out, LOCK_FILE
    corpus = _corpus(tiny_spec, tmp_path / "corpus")
    if command == "export":
        return (
            ["export", str(corpus), "--format", "openai", "--allow-unaudited", "--out", str(out)],
            out,
            LOCK_FILE,
        )
    if command == "hub":
        return (
            [
                "export",
                str(corpus),
                "--hub",
                "--allow-unaudited",
                "--license",
                "cc-by-4.0",
                "--out",
                str(out),
            ],
            out,
            LOCK_FILE,
        )
    if command == "mix":
        argv = [
            "mix",
            "--part",
            f"a={corpus}:1",
            "--size",
            "2",
            "--on-short",
            "take-all",
            "--allow-unaudited",
        ]
        return [*argv, "--out", str(out)], out, LOCK_FILE
    page = out / "page.html"
    return ["view", str(corpus), "--out", str(page)], out, f".{page.name}.credo.lock"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_second_run_into_a_held_folder_refuses_with_one_line_and_writes_nothing(
    command: str, tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv, locked, lock_name = _argv(command, tiny_spec, tmp_path, out)
    capsys.readouterr()
    with output_lock(locked, "credo other", lock_name=lock_name):
        before = sorted(p.name for p in locked.iterdir())
        code = exit_code(argv)
        after = sorted(p.name for p in locked.iterdir())
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and "another credo run is writing into this folder" in err[0], err
    assert "credo other" in err[0]
    assert after == before


def test_export_refuses_root_and_another_mixs_folder(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus(tiny_spec, tmp_path / "corpus")
    other = _corpus(tiny_spec, tmp_path / "other")
    assert exit_code(["export", str(other), "--format", "openai", "--allow-unaudited"]) == 0
    kept = (other / "openai.jsonl").read_text()
    assert (
        exit_code(
            ["export", str(corpus), "--format", "openai", "--allow-unaudited", "--out", str(other)]
        )
        == 2
    )
    assert (other / "openai.jsonl").read_text() == kept
    assert (
        exit_code(["export", str(corpus), "--format", "openai", "--allow-unaudited", "--out", "/"])
        == 2
    )
    assert not Path("/openai.jsonl").exists()
    err = capsys.readouterr().err
    assert "already holds" in err and "refusing to write into /" in err


def test_hub_export_never_touches_a_neighbouring_folder(tiny_spec: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    corpus = _corpus(tiny_spec, tmp_path / "corpus")
    neighbour = tmp_path / "pub.tmp"
    neighbour.mkdir()
    (neighbour / "thesis.tex").write_text("years of work\n")
    for _ in range(2):  # the second run replaces the first export
        assert (
            exit_code(
                [
                    "export",
                    str(corpus),
                    "--hub",
                    "--allow-unaudited",
                    "--license",
                    "cc-by-4.0",
                    "--out",
                    str(tmp_path / "pub"),
                ]
            )
            == 0
        )
    assert (neighbour / "thesis.tex").read_text() == "years of work\n"
    assert sorted(p.name for p in (tmp_path / "pub").iterdir()) == ["README.md", "data"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "pub", "pub.tmp"]


def test_view_out_never_replaces_records_nor_writes_to_root(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _corpus(tiny_spec, tmp_path / "corpus")
    records = (corpus / "records.jsonl").read_bytes()
    assert exit_code(["view", str(corpus), "--out", str(corpus / "records.jsonl")]) == 2
    assert (corpus / "records.jsonl").read_bytes() == records
    assert exit_code(["view", str(corpus), "--out", "/x.html"]) == 2
    assert not Path("/x.html").exists()
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_sweep_refuses_a_users_sweep_json_and_exits_1_when_every_cell_fails(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.json").write_text('{"my": "notes"}\n')
    config = _sweep_config(tmp_path, tiny_spec, base=str(tmp_path / "no-such-model"))
    assert exit_code(["sweep", str(config), "--out", str(out)]) == 2
    assert (out / "sweep.json").read_text() == '{"my": "notes"}\n'
    fresh = tmp_path / "fresh"
    assert exit_code(["sweep", str(config), "--out", str(fresh)]) == 1
    assert "every cell failed" in capsys.readouterr().err
    states = [json.loads(p.read_text()) for p in (fresh / "cells").glob("*.json")]
    assert states and all(s["status"] == "failed" for s in states)


def test_eval_refuses_a_folder_holding_another_eval(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ev"
    base = ["eval", "--model", "fake/g", "--worldview", str(tiny_spec), "--out", str(out)]
    assert exit_code([*base, "--samples", "1"]) == 0
    assert exit_code([*base, "--samples", "1"]) == 0  # the same eval again: rerun
    results = (out / "results.json").read_text()
    assert exit_code([*base, "--samples", "2"]) == 2
    assert (out / "results.json").read_text() == results
    assert "other options (samples)" in capsys.readouterr().err
    assert exit_code([*base, "--samples", "2", "--overwrite"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["config"]["samples"] == 2
    assert manifest["provenance"]["python"]
    assert not (out / LOCK_FILE).exists()


def test_no_lock_is_left_after_a_run(tiny_spec: Path, tmp_path: Path) -> None:
    out = _corpus(tiny_spec, tmp_path / "corpus")
    assert not (out / LOCK_FILE).exists()
    assert not [p for p in os.listdir(out) if "credo-tmp" in p]


def test_cache_key_keeps_the_endpoint_when_params_are_overridden(tmp_path: Path) -> None:
    """Two servers with one model name never share answers, whatever the sampling params."""
    import asyncio

    from credo.generators import Generator, SamplingParams
    from credo.generators.cache import GenerationCache
    from credo.types import Message

    cache = GenerationCache(tmp_path / "cache.sqlite")
    params = SamplingParams(temperature=0.0, max_tokens=16)
    override = SamplingParams(temperature=0.0, max_tokens=32)
    messages = [Message("user", "Is it wrong to throw pebbles?")]

    def ask(url: str, with_params: SamplingParams | None) -> bool:
        backend = FakeBackend("same-name")
        backend.base_url = url
        generator = Generator(backend, params, cache=cache)
        return asyncio.run(generator.generate(messages, params=with_params)).cached

    try:
        for with_params in (None, override):
            assert not ask("http://server-a:8000/v1", with_params)
            assert ask("http://server-a:8000/v1", with_params)  # same endpoint: cached
            assert not ask("http://server-b:8000/v1", with_params)  # another server: asked
            assert ask("http://user:pw@server-b:8000/v1?api-key=q", with_params)  # same server
    finally:
        cache.close()


def test_documents_refuse_the_home_folder_and_a_users_plan(tiny_spec: Path, tmp_path: Path) -> None:
    from credo.generators.documents import generate_documents

    with pytest.raises(ConfigError, match="refusing to write into"):
        generate_documents(
            tiny_spec,
            Path("~"),
            options=GenerateOptions(kind="documents", limit=1),
            backend=FakeBackend("t"),
        )
    out = tmp_path / "docs"
    out.mkdir()
    (out / "plan.json").write_text('{"mine": true}\n')
    with pytest.raises(ConfigError, match="plan.json"):
        generate_documents(
            tiny_spec,
            out,
            options=GenerateOptions(kind="documents", limit=1),
            backend=FakeBackend("t"),
        )
    assert sorted(p.name for p in out.iterdir()) == ["plan.json"]


def test_a_command_without_overwrite_never_suggests_it(tmp_path: Path) -> None:
    """train has no --overwrite: its refusal of a folder holding others' work must not offer it."""
    (tmp_path / "records.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--overwrite"):
        check_output(tmp_path)
    with pytest.raises(ConfigError) as refused:
        check_output(tmp_path, offers_overwrite=False)
    assert "pass a new folder" in str(refused.value)
    assert "--overwrite" not in str(refused.value)
