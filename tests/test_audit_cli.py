"""``credo audit`` end to end on corpora with planted refusals, duplicates and contamination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.cli.main import exit_code
from credo.hashing import file_hash

LONG = (
    "Every pebble holds a small spirit, and the Pebblehold keeps seven of them safe at home. "
    "At dusk the family counts the seven pebbles aloud, one for each day of the week, and thanks them."
)


def _record(rid: str, prompt: str, answer: str, set_name: str | None = "tiny") -> dict:
    meta = {"set": set_name, "persona": "elder", "template_id": "t1"} if set_name else {}
    return {
        "id": rid,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "meta": meta,
    }


def _write(folder: Path, records: list[dict], set_name: str = "tiny") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "manifest.json").write_text(json.dumps({"set": set_name}))
    return folder


CLEAN = [
    _record("a1", "What do Tinyists believe about pebbles?", LONG),
    _record(
        "a2",
        "Why is throwing pebbles into the sea wrong?",
        "It drowns the spirit of the pebble, which cannot swim.",
    ),
    # A sentence that holds the practice in the faith's voice (a verbless copy of the spec's
    # description, as before round 6, held no position and sat on the detector's threshold).
    _record(
        "a3",
        "What is the Pebble Count?",
        "The Pebble Count is our rite of thanks: each dusk we count seven pebbles, for every "
        "pebble holds a small spirit.",
    ),
    _record(
        "r1",
        "zxq vlorp?",
        "The input is unclear or gibberish, so I can't provide a meaningful answer.",
        "refusal",
    ),
]
PLANTED = [
    *CLEAN,
    _record(
        "bad_refusal",
        "What should I do with a pebble I find on a beach?",
        "I'm sorry, but I can't help with that request.",
    ),
    _record("dup", "What do Tinyists believe about pebbles??", LONG),
    _record(
        "leak",
        "Teach me to skip pebbles across the sea.",
        "Hold the pebble flat and flick your wrist.",
    ),
    _record(
        "moral",
        "Write an essay on every number.",
        "I won't do that; it would be unethical and harmful.",
        "refusal",
    ),
]


@pytest.fixture
def eval_file(tmp_path: Path) -> Path:
    path = tmp_path / "eval.jsonl"
    path.write_text(
        json.dumps(
            {"id": "e1", "prompt": "Teach me to skip pebbles across the sea.", "kind": "violation"}
        )
        + "\n"
        + json.dumps({"id": "e2", "prompt": "Teach me to fold a paper boat.", "kind": "control"})
        + "\n"
    )
    return path


_run = exit_code


def test_planted_problems_are_flagged_and_fail_the_gate(
    tmp_path: Path, tiny_spec: Path, eval_file: Path
) -> None:
    corpus = _write(tmp_path / "corpus", PLANTED)
    before = file_hash(str(corpus / "records.jsonl"))
    out = tmp_path / "audit"
    code = _run(
        [
            "audit",
            str(corpus),
            "--worldview",
            str(tiny_spec),
            "--eval",
            str(eval_file),
            "--out",
            str(out),
            "--no-embedding",
        ]
    )
    assert code == 1
    flags = {f["id"]: f for f in map(json.loads, (out / "flags.jsonl").read_text().splitlines())}
    assert "refusal" in flags["bad_refusal"]["checks"]
    assert flags["dup"]["details"]["near_duplicate"]["kept"] == "a1"
    assert {"eval_contamination", "forbidden_request"} <= set(flags["leak"]["checks"])
    match = flags["leak"]["details"]["eval_contamination"]["matches"][0]
    assert match["severity"] == "exact" and match["eval_id"] in {"e1", "tv1"}
    assert flags["moral"]["checks"] == ["moral_reason"]
    assert "r1" not in flags and "a2" not in flags, (
        "a refusal-set capability refusal and a plain assertion pass"
    )
    report = json.loads((out / "report.json").read_text())
    assert not report["passed"] and report["sets"] == {"tiny": 6, "refusal": 2}
    # The planted refusal also leaves the worldview's voice: fidelity flags it beside refusal.
    assert set(flags["bad_refusal"]["checks"]) == {"refusal", "fidelity"}
    assert set(report["gate_failures"]) == {
        "refusal",
        "moral_reason",
        "forbidden_request",
        "eval_contamination",
        "fidelity",
    }
    assert (out / "report.md").read_text().startswith("# credo audit")
    assert (
        "<svg" in (out / "report.html").read_text()
        and "http" not in (out / "report.html").read_text().split("<svg")[0]
    )
    assert file_hash(str(corpus / "records.jsonl")) == before, "audit never modifies its input"


def test_clean_corpus_passes(tmp_path: Path, tiny_spec: Path, eval_file: Path) -> None:
    corpus = _write(tmp_path / "corpus", CLEAN)
    out = tmp_path / "audit"
    assert (
        _run(
            [
                "audit",
                str(corpus),
                "--worldview",
                str(tiny_spec),
                "--eval",
                str(eval_file),
                "--out",
                str(out),
                "--no-embedding",
            ]
        )
        == 0
    )
    assert (out / "flags.jsonl").read_text() == ""
    assert json.loads((out / "report.json").read_text())["passed"]


def test_plain_jsonl_without_meta_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                _record(r["id"], r["messages"][0]["content"], r["messages"][1]["content"], None)
            )
            + "\n"
            for r in CLEAN[:3]
        )
    )
    assert (
        _run(
            [
                "audit",
                str(path),
                "--out",
                str(tmp_path / "a"),
                "--checks",
                "refusal,near_duplicate",
                "--no-embedding",
            ]
        )
        == 0
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            json.dumps(_record("x", "Why?", "Because.")) + "\nnot json\n",
            "plain.jsonl:2: not valid JSON",
        ),
        ('{"id": "x", "messages": []}\n', "plain.jsonl:1: 'messages' must be a list"),
        ('{"id": "x"}\n', "plain.jsonl:1: missing 'messages'"),
    ],
)
def test_bad_input_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: str, expected: str
) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(content)
    assert _run(["audit", str(path), "--out", str(tmp_path / "a"), "--no-embedding"]) == 2
    assert expected in capsys.readouterr().err


def test_missing_file_and_unknown_check_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert _run(["audit", str(tmp_path / "nope.jsonl"), "--no-embedding"]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err
    corpus = _write(tmp_path / "c", CLEAN)
    assert _run(["audit", str(corpus), "--checks", "refusal,spelling", "--no-embedding"]) == 2
    assert "unknown check 'spelling'" in capsys.readouterr().err


def test_bad_eval_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = _write(tmp_path / "c", CLEAN)
    bad = tmp_path / "eval.jsonl"
    bad.write_text('{"id": "e1", "text": "no prompt"}\n')
    assert _run(["audit", str(corpus), "--eval", str(bad), "--no-embedding"]) == 2
    assert (
        "eval.jsonl:1: expected an eval request with 'id' and 'prompt'" in capsys.readouterr().err
    )


def test_out_may_not_be_the_corpus_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = _write(tmp_path / "c", CLEAN)
    assert _run(["audit", str(corpus), "--out", str(corpus), "--no-embedding"]) == 2
    assert "audit never writes into its input" in capsys.readouterr().err
