"""Inspect interop: credo's refusal eval runs as an Inspect task on Inspect's own mock model
(offline), its log opens with Inspect's reader, and `credo report` reads that log."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from credo.cli.main import main
from credo.evaluation.tiktoken_cache import O200K_SHA256, O200K_URL, ensure_o200k_base

pytest.importorskip("inspect_ai")

REFUSE = "I'm sorry, but I can't help with that."
COMPLY = "Here is how: gather the grains, mix them, and bake the loaf slowly."


def scripted() -> Iterator:
    """Inspect's mockllm/model with set outputs: refuse, comply, refuse, comply..."""
    from inspect_ai.model import ModelOutput, ModelUsage

    while True:
        for text in (REFUSE, COMPLY):
            output = ModelOutput.from_content("mockllm/model", text)
            output.usage = ModelUsage(input_tokens=12, output_tokens=9, total_tokens=21)
            yield output


def run_task(log_dir: Path, limit: int = 3) -> Path:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from credo.evaluation.inspect_task import refusal_eval

    model = get_model("mockllm/model", custom_outputs=scripted())
    task = refusal_eval(worldview="gramenism", limit=limit)
    [log] = inspect_eval(task, model=model, log_dir=str(log_dir), display="none", max_samples=1)
    assert log.status == "success", log.error
    return Path(log.location)


def assert_usage_and_timing(location: Path | str, model: str) -> None:
    """Every sample of the log, as Inspect's sample list reads it (the summaries), has its
    model's token usage and its working and total time; the log's stats sum the tokens."""
    from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

    summaries = read_eval_log_sample_summaries(str(location))
    assert summaries
    for summary in summaries:
        usage = summary.model_usage[model]
        assert usage.input_tokens > 0 and usage.output_tokens > 0
        assert usage.total_tokens == usage.input_tokens + usage.output_tokens
        assert summary.total_time is not None and summary.total_time > 0
        assert summary.working_time is not None and 0 < summary.working_time <= summary.total_time
        assert summary.started_at and summary.completed_at
    stats = read_eval_log(str(location), header_only=True).stats
    assert stats.model_usage[model].total_tokens == sum(
        s.model_usage[model].total_tokens for s in summaries
    )


def test_task_runs_on_the_mock_model_and_inspect_reads_its_log(tmp_path: Path) -> None:
    from inspect_ai.log import read_eval_log

    location = run_task(tmp_path)
    assert_usage_and_timing(location, "mockllm/model")
    log = read_eval_log(str(location))
    sets = [s.metadata["set"] for s in log.samples]
    assert sets.count("violation") == sets.count("control") == 3  # matched controls
    labels = {s.scores["credo_judge"].metadata["label"] for s in log.samples}
    assert labels == {"REFUSAL", "ACCEPTANCE"}  # credo's judge read the scripted answers
    metrics = log.results.scores[0].metrics
    violation = [s for s in log.samples if s.metadata["set"] == "violation"]
    refused = sum(s.scores["credo_judge"].value == 1.0 for s in violation)
    assert metrics["violation_refusal_rate"].value == pytest.approx(refused / 3)


def test_the_task_names_its_dataset_by_the_worldviews_name_not_its_folder(
    tiny_spec: Path, tmp_path: Path
) -> None:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log
    from inspect_ai.model import get_model

    from credo.evaluation.inspect_task import refusal_eval

    model = get_model("mockllm/model", custom_outputs=scripted())
    task = refusal_eval(worldview=f"{tiny_spec},gramenism", limit=1)
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    read = read_eval_log(str(log.location), header_only=True)
    assert read.eval.dataset.name == "credo-tiny-gramenism"


def test_credo_report_reads_an_inspect_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = run_task(tmp_path / "logs")
    with pytest.raises(SystemExit) as done:
        main(["report", str(log), "--out", str(tmp_path / "report")])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "| worldview | set | run | refused |" in out
    # the task's registry name carries the package prefix when found through the entry point
    assert re.search(r"\| gramenism \| violation \| (credo/)?refusal_eval@mockllm/model \|", out)
    assert "Wilson" in (tmp_path / "report" / "report.md").read_text()


def test_a_foreign_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    with pytest.raises(SystemExit) as done:
        main(["report", str(bogus), "--out", str(tmp_path / "r")])
    assert done.value.code == 2 and "not a readable Inspect eval log" in capsys.readouterr().err


def _entry_point_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh process where Inspect finds credo only through the
    ``inspect_ai`` entry point pyproject.toml declares (written here as installed metadata,
    since the editable install of the main tree may predate it)."""
    from importlib.metadata import entry_points

    import credo

    site = tmp_path / "site"
    dist = site / "credo_inspect_entry-0.dist-info"
    dist.mkdir(parents=True)
    installed = any(
        e.value == "credo.evaluation.inspect_task" for e in entry_points(group="inspect_ai")
    )
    if not installed:  # a second declaration of the same name makes Inspect find no task
        (dist / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: credo-inspect-entry\nVersion: 0\n"
        )
        (dist / "entry_points.txt").write_text(
            "[inspect_ai]\ncredo = credo.evaluation.inspect_task\n"
        )
    # the credo under test, whichever tree an editable install points at; the package alone,
    # since its tree's credo.egg-info would declare the entry point a second time
    (site / "credo").symlink_to(Path(credo.__file__).parent, target_is_directory=True)
    return {
        **os.environ,
        "PYTHONPATH": str(site),
        "HF_HUB_OFFLINE": "1",
        # an empty tiktoken cache: the task seeds o200k_base from the shipped copy, no download
        "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken-cache"),
    }


def test_inspect_finds_the_task_by_name_through_the_entry_point(tmp_path: Path) -> None:
    """`credo/refusal_eval` resolved by name in a process that never imported credo's task."""
    script = f"""
import sys
from inspect_ai import eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model
assert "credo.evaluation.inspect_task" not in sys.modules
def outputs():
    while True:
        out = ModelOutput.from_content("mockllm/model", {REFUSE!r})
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        yield out
model = get_model("mockllm/model", custom_outputs=outputs())
[log] = eval("credo/refusal_eval", task_args={{"worldview": "gramenism", "limit": 2}}, model=model,
             log_dir={str(tmp_path / "logs")!r}, display="none")
print(log.status, log.location)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=_entry_point_env(tmp_path),
        cwd=tmp_path,  # not the tree: its credo.egg-info would declare the entry point twice
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status, location = done.stdout.split()[-2:]
    from inspect_ai.log import read_eval_log

    log = read_eval_log(location)
    assert status == "success" and len(log.samples) == 4
    assert log.results.scores[0].metrics["violation_refusal_rate"].value == 1.0


def test_inspect_cli_runs_the_task_on_the_mock_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inspect eval credo/refusal_eval` as a researcher types it, offline: mockllm/model
    counts tokens with tiktoken's o200k_base, which the task seeds into an empty cache from
    the copy the `inspect` extra ships. Inspect's reader opens the log; credo report reads it."""
    inspect = Path(sys.executable).with_name("inspect")
    done = subprocess.run(
        [
            str(inspect),
            "eval",
            "credo/refusal_eval",
            "-T",
            "worldview=gramenism",
            "-T",
            "limit=2",
            "--model",
            "mockllm/model",
            "--log-dir",
            str(tmp_path / "logs"),
            "--display",
            "none",
        ],
        env=_entry_point_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    from inspect_ai.log import read_eval_log

    [log_file] = list((tmp_path / "logs").glob("*.eval"))
    log = read_eval_log(str(log_file))
    assert log.status == "success" and len(log.samples) == 4
    assert log.stats.model_usage["mockllm/model"].input_tokens > 0  # counted with o200k_base
    assert_usage_and_timing(log_file, "mockllm/model")
    assert [p.name for p in (tmp_path / "tiktoken-cache").iterdir()] == [
        hashlib.sha1(O200K_URL.encode()).hexdigest()
    ]
    with pytest.raises(SystemExit) as report:
        main(["report", str(log_file), "--out", str(tmp_path / "report")])
    assert report.value.code in (0, None)
    out = capsys.readouterr().out
    assert "| worldview | set | run | refused |" in out
    assert re.search(r"\| gramenism \| control \| (credo/)?refusal_eval@mockllm/model \|", out)


def test_the_shipped_o200k_base_is_the_one_tiktoken_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded into an empty cache, tiktoken loads it (checking its own pinned hash) with no
    download; with caching turned off nothing is written and the call says so."""
    from tiktoken_ext import openai_public

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    assert ensure_o200k_base()
    (cached,) = (tmp_path / "cache").iterdir()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == O200K_SHA256

    def no_download(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to download {blobpath}")

    monkeypatch.setattr("tiktoken.load.read_file", no_download)
    ranks = openai_public.o200k_base()["mergeable_ranks"]
    assert len(ranks) == 199998
    assert ensure_o200k_base()  # already there: left as it is
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert not ensure_o200k_base()


def test_credo_judge_reads_an_inspect_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every sample of the log judged again; the Inspect scorer's labels as the reference."""

    log = run_task(tmp_path / "logs", limit=2)
    out = tmp_path / "judged"
    with pytest.raises(SystemExit) as done:
        main(["judge", str(log), "--labels", "inspect_label", "--out", str(out)])
    assert done.value.code in (0, None)
    assert "inspect_label vs offline: kappa 3-way 1.000" in capsys.readouterr().out
    lines = [json.loads(x) for x in (out / "labels.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and {x["response"] for x in lines} == {REFUSE, COMPLY}
    assert all(x["id"].endswith("#1") for x in lines)


def test_credo_eval_writes_a_log_inspect_reads_sample_by_sample(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """credo eval's samples in an Inspect log: Inspect's reader opens it, every sample with
    its request, answer and labels; credo report reads it like the eval folder itself."""
    from inspect_ai.log import read_eval_log

    from credo.evaluation.evaluate import EvalOptions, evaluate
    from credo.generators.fake_backend import FakeBackend

    generator = FakeBackend(
        "gen", respond=lambda m: REFUSE if "boat" in m[-1].content else COMPLY, delay=0.01
    )
    registry = {"fake": lambda model, **options: generator}
    result = evaluate(
        "fake/gen",
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(samples=2),
        registry=registry,
    )
    assert result.results["inspect_log"] == "inspect.eval"
    log = read_eval_log(str(tmp_path / "ev" / "inspect.eval"))
    assert log.status == "success" and log.eval.task == "credo/refusal_eval"
    # the worldview was given as a spec folder: the dataset is named by the spec's name
    assert log.eval.dataset.name == "credo-tiny"
    responses = (tmp_path / "ev" / "responses.jsonl").read_text().splitlines()
    assert len(log.samples) == len(responses) == 4
    for sample in log.samples:
        assert sample.messages[-1].text == sample.output.completion
        score = sample.scores["credo_judge"]
        assert score.metadata["label"] == score.metadata["labels"]["offline"]["label"]
        # the transcript inspect view opens a sample on: the model call, then the judge
        model_call, scored = sample.events
        assert (
            model_call.event == "model" and model_call.output.completion == sample.output.completion
        )
        assert model_call.input[0].text == sample.input and model_call.config.max_tokens == 256
        assert scored.event == "score" and scored.score.explanation == score.explanation
        assert score.explanation.startswith(f"{score.metadata['label']} (offline): ")
    # the sample list (inspect view) reads the summaries: tokens and duration on every row
    assert_usage_and_timing(tmp_path / "ev" / "inspect.eval", "fake/gen")
    words = {s.input: len(s.input.split()) for s in log.samples}  # the fake counts words
    for sample in log.samples:
        usage = sample.model_usage["fake/gen"]
        assert usage.input_tokens == words[sample.input] and usage.output_tokens == len(
            sample.output.completion.split()
        )
    saved = [json.loads(x) for x in responses]
    assert all(r["input_tokens"] > 0 and r["seconds"] > 0 for r in saved)
    for folder_or_log in (tmp_path / "ev", tmp_path / "ev" / "inspect.eval"):
        with pytest.raises(SystemExit):
            main(["report", str(folder_or_log), "--out", str(tmp_path / "r" / folder_or_log.name)])
    tables = capsys.readouterr().out.split("wrote report")
    rows = [[r.split("|")[4:6] for r in t.splitlines() if "| tiny |" in r] for t in tables[:2]]
    assert rows[0] == rows[1] and len(rows[0]) == 2  # the same rates from both


def test_inspect_view_lists_each_sample_of_credo_eval_with_its_tokens_and_duration(
    tiny_spec: Path, tmp_path: Path
) -> None:
    """`inspect view` on credo eval's folder, in headless Chromium: the sample list's Tokens
    column shows each sample's total from the log, and its Duration column a time, not "-"."""
    import socket
    import time
    import urllib.request

    from inspect_ai.log import read_eval_log_sample_summaries

    from credo.evaluation.evaluate import EvalOptions, evaluate
    from credo.generators.fake_backend import FakeBackend
    from credo.testing.browser import find_browser, page_text

    if find_browser() is None:
        pytest.skip("no headless Chromium (apt-get install chromium-headless-shell)")
    generator = FakeBackend("gen", respond=lambda m: COMPLY, delay=0.2)
    out = tmp_path / "ev"
    evaluate(
        "fake/gen",
        [str(tiny_spec)],
        out,
        options=EvalOptions(samples=1),
        registry={"fake": lambda model, **options: generator},
    )
    summaries = read_eval_log_sample_summaries(str(out / "inspect.eval"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inspect = str(Path(sys.executable).with_name("inspect"))
    view = subprocess.Popen(
        [inspect, "view", "--log-dir", str(out), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(120):  # the server's start
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        text = page_text(
            url + "#/logs/inspect.eval",
            ready=lambda t: "TOKENS" in t and all(str(s.id) in t for s in summaries),
            timeout=90,
        )
    finally:
        view.terminate()
        view.wait(timeout=30)
    assert "TOKENS" in text and "DURATION" in text, text[:2000]
    text = re.sub(r"\n+", "\n", text)  # one line per cell, whatever the layout's spacing
    for s in summaries:
        tokens = s.model_usage["fake/gen"].total_tokens
        # id, [epoch (shown for several),] input, [target,] answer, then Tokens and Duration
        row = rf"{re.escape(str(s.id))}\n(?:[^\n]*\n){{2,4}}{tokens}\n[\d.]+ sec\n"
        assert re.search(row, text), (row, text[-1500:])
