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
    "from credo.cli.quiet import set_third_party_output; set_third_party_output(verbose=False); "
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
