"""What a command does, a caller of the Python API can do: the audit's progress lines and
`credo view --serve` are reachable from `credo.audit` and `credo.serve_view`."""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path

import pytest

import credo
from credo.audit.progress import AuditProgress


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api") / "gramenism"
    teacher = credo.GenerateOptions(model="fake/echo", limit=4)
    credo.generate("gramenism", out, options=teacher, progress=False)
    return out


def test_audit_tells_its_progress_to_the_caller(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AuditProgress, "EVERY", 0.0)  # a small corpus says something too
    monkeypatch.setattr(AuditProgress, "MIN_RECORDS", 0)
    lines: list[str] = []
    checks = credo.AuditOptions(checks=["structure", "refusal"], use_embedding=False)
    credo.audit(corpus, tmp_path / "audit", options=checks, progress=lines.append)
    assert lines and all(line.startswith("audit:") for line in lines)
    assert "records/s" in " ".join(lines)


def test_serve_view_pages_and_filters_like_the_command(corpus: Path) -> None:
    server = credo.serve_view(corpus, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(server.url + "api/records?limit=2") as reply:
            page = json.load(reply)
        assert page["total"] == 4 and len(page["items"]) == 2
        with urllib.request.urlopen(server.url + "api/records?limit=2&offset=2") as reply:
            rest = json.load(reply)["items"]
        assert len(rest) == 2 and not {i["id"] for i in rest} & {i["id"] for i in page["items"]}
        with urllib.request.urlopen(server.url + "api/records?q=nosuchwordanywhere") as reply:
            assert json.load(reply)["total"] == 0
    finally:
        server.shutdown()
        server.server_close()
        server.index.close()
    assert server.index.records == 4


def test_the_audit_function_is_typed() -> None:
    import inspect

    signature = inspect.signature(credo.audit)
    assert list(signature.parameters) == ["path", "out", "options", "progress"]
    assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())
    assert signature.return_annotation is not inspect.Parameter.empty


# the CLI switches third-party output off (unless --verbose) before any command runs
CONVERT_AS_THE_CLI_DOES = (
    "from credo.quiet import set_third_party_output; set_third_party_output(verbose=False); "
    "from credo.embedded import smollm2_path; smollm2_path()"
)


@pytest.mark.slow
def test_the_first_smollm2_conversion_says_one_line_and_no_library_bar(tmp_path: Path) -> None:
    """A fresh model cache, as a command meets it: the ~30 s conversion announces itself in
    one line, and none of transformers' bars (de-quantizing, loading weights, writing
    shards) reach the screen."""
    import os
    import subprocess
    import sys

    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    env = {**os.environ, "CREDO_MODEL_CACHE": str(tmp_path / "models"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CONVERT_AS_THE_CLI_DOES],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.replace("\r", "\n").splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("credo: converting the embedded SmolLM2")
    assert (tmp_path / "models" / "smollm2-135m-instruct" / "config.json").is_file()


@pytest.fixture
def api_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """A script's process: no --verbose, no CREDO_VERBOSE, and every library's own bars on
    (as an earlier command in this test process may have left them off)."""
    from credo import quiet

    quiet.set_third_party_output(verbose=True)
    monkeypatch.setattr(quiet, "_verbose", None)
    monkeypatch.delenv("CREDO_VERBOSE", raising=False)


def _probe(tiny_spec: Path, tiny_llama: Path, out: Path) -> None:
    options = credo.ProbeOptions(model=str(tiny_llama), max_new_tokens=2, questions=1, sentences=2)
    credo.probe(tiny_spec, out, options=options)


@pytest.mark.usefixtures("api_user")
def test_api_calls_show_no_library_bar_unless_verbose(
    tiny_spec: Path,
    tiny_llama: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """transformers draws "Loading weights" when a script loads a model through credo: off in
    the API as in the CLI, back with CREDO_VERBOSE=1, and a script's own bars after the call
    draw as before."""
    from tqdm import tqdm

    _probe(tiny_spec, tiny_llama, tmp_path / "quiet")
    quiet = capsys.readouterr().err
    assert "Loading weights" not in quiet and "it/s]" not in quiet
    for _ in tqdm(range(2), desc="the script's own", mininterval=0):
        pass
    assert "the script's own" in capsys.readouterr().err
    monkeypatch.setenv("CREDO_VERBOSE", "1")
    _probe(tiny_spec, tiny_llama, tmp_path / "loud")
    assert "Loading weights" in capsys.readouterr().err


@pytest.mark.usefixtures("api_user")
def test_a_callable_package_is_an_api_entry_point_too(
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """credo.audit is its package called: a bar opened by other code while it runs (here the
    caller's progress hook, standing in for a library) is off; credo's own progress lines
    still reach the hook."""
    from tqdm import tqdm

    monkeypatch.setattr(AuditProgress, "EVERY", 0.0)
    monkeypatch.setattr(AuditProgress, "MIN_RECORDS", 0)
    heard: list[str] = []

    def hook(line: str) -> None:
        heard.append(line)
        for _ in tqdm(range(2), desc="library bar", mininterval=0):
            pass

    checks = credo.AuditOptions(checks=["structure"], use_embedding=False)
    credo.audit(corpus, tmp_path / "audit", options=checks, progress=hook)
    assert heard and "library bar" not in capsys.readouterr().err
