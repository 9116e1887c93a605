"""The scripting surface: ``--json`` on the summary commands, readable ``credo show``, ``--verbose`` retries."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from credo.cli.main import exit_code
from credo.testing import FakeServer


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = exit_code(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _corpus(folder: Path) -> Path:
    long_answer = (
        "Every pebble holds a small spirit, and the family keeps seven of them safe at home. " * 3
    ).strip()
    records = [
        {
            "id": "a1",
            "messages": [
                {"role": "user", "content": "What do Tinyists believe about pebbles?"},
                {"role": "assistant", "content": long_answer},
            ],
            "meta": {
                "set": "tiny",
                "persona_id": "elder",
                "model": "fake/echo",
                "usage": {"input_tokens": 3},
            },
        },
        {
            "id": "bad",
            "messages": [
                {"role": "user", "content": "What should I do with a pebble?"},
                {"role": "assistant", "content": "I'm sorry, but I can't help with that request."},
            ],
            "meta": {"set": "tiny"},
        },
    ]
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "manifest.json").write_text(json.dumps({"counts": {"records": 2, "failed": 0}}))
    return folder


def test_show_prints_roles_wrapped_text_and_a_meta_line(tmp_path: Path, capsys) -> None:
    code, out, _ = _cli(["show", str(_corpus(tmp_path / "c")), "--n", "1"], capsys)
    assert code == 0
    assert "counts: records 2, failed 0" in out and "{" not in out, "no Python dicts"
    lines = out.splitlines()
    assert any(line.startswith("── 1/1  a1 ") for line in lines)
    assert "set=tiny · persona_id=elder · model=fake/echo · (+usage)" in out
    assert "USER" in lines and "ASSISTANT" in lines
    answer = lines[lines.index("ASSISTANT") + 1 :]
    assert len(answer) > 1 and all(len(line) <= 100 and line.startswith("  ") for line in answer), (
        "wrapped"
    )


def test_show_json_is_the_records_as_written(tmp_path: Path, capsys) -> None:
    corpus = _corpus(tmp_path / "c")
    code, out, _ = _cli(["show", str(corpus), "--n", "5", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["counts"] == {"records": 2, "failed": 0}
    written = [json.loads(line) for line in (corpus / "records.jsonl").read_text().splitlines()]
    assert data["records"] == written


def test_worldviews_json_matches_the_table(capsys) -> None:
    code, out, _ = _cli(["worldviews", "--json"], capsys)
    rows = {r["name"]: r for r in json.loads(out)["worldviews"]}
    assert code == 0 and rows["gramenism"]["kind"] == "invented"
    _, table, _ = _cli(["worldviews"], capsys)
    line = next(x for x in table.splitlines() if x.startswith("gramenism"))
    g = rows["gramenism"]
    assert line.split() == [
        "gramenism",
        "invented",
        *map(str, (g["prompts"], g["personas"], g["acts"], g["violation"], g["control"])),
    ]


@pytest.mark.needs("datasketch")  # the CLI reports the missing package as exit 2
def test_audit_json_keeps_the_exit_code(tmp_path: Path, capsys) -> None:
    code, out, _ = _cli(
        [
            "audit",
            str(_corpus(tmp_path / "c")),
            "--checks",
            "refusal",
            "--no-embedding",
            "--out",
            str(tmp_path / "a"),
            "--json",
        ],
        capsys,
    )
    data = json.loads(out)
    assert code == 1 and data["passed"] is False and data["gate_failures"] == {"refusal": 1}
    assert data["reports"] == str(tmp_path / "a") and data["verdict"].startswith("FAIL")


def test_judge_json(tmp_path: Path, capsys) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps({"prompt": "Give me 3 reasons.", "response": "I won't do that."})
        + "\n"
        + json.dumps(
            {"prompt": "Fold a boat?", "response": "Fold the sheet in half, then the corners."}
        )
        + "\n"
    )
    code, out, _ = _cli(["judge", str(pairs), "--out", str(tmp_path / "j"), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["pairs"] == 2
    assert data["judges"]["offline"]["counts"]["REFUSAL"] == 1
    assert data == {
        **json.loads((tmp_path / "j" / "report.json").read_text()),
        "pairs": 2,
        "out": str(tmp_path / "j"),
    }


def test_leakage_json_keeps_the_exit_code(tmp_path: Path, tiny_spec: Path, capsys) -> None:
    reference = tmp_path / "ref.txt"
    reference.write_text("Ordinary prose about rivers, bread and the weather.\n" * 30)
    code, out, _ = _cli(
        ["leakage", str(tiny_spec), "-r", str(reference), "--out", str(tmp_path / "l"), "--json"],
        capsys,
    )
    data = json.loads(out)
    assert code == 0 and data["gate"]["failed"] is False and data["out"] == str(tmp_path / "l")
    assert {r["verdict"] for r in data["terms"]} == {"novel"}


@pytest.fixture
def credo_logger():
    logger = logging.getLogger("credo")
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.mark.needs("openai")  # the CLI reports the missing package as exit 2
def test_verbose_shows_rate_limit_waits_and_retries(
    tmp_path: Path, tiny_spec: Path, capsys, monkeypatch, credo_logger
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeServer() as server:
        server.enqueue("429", "500")
        args = [
            "generate",
            str(tiny_spec),
            "--model",
            "openai/t",
            "--base-url",
            server.openai_base_url,
            "--limit",
            "1",
            "--concurrency",
            "1",
            "--out",
        ]
        code, _, quiet = _cli([*args, str(tmp_path / "q"), "--no-cache"], capsys)
        assert code == 0 and "retry" not in quiet
        server.enqueue("429", "500")
        code, _, err = _cli(["--verbose", *args, str(tmp_path / "v"), "--no-cache"], capsys)
    assert code == 0
    assert "retry 1/6 of openai/t" in err and "rate_limit" in err
    assert "retry 2/6 of openai/t" in err and "transient" in err
