"""``credo report`` on fixture eval runs: table, Fisher tests vs baseline, chart, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.cli.main import main
from credo.errors import ConfigError, CorpusError
from credo.evaluation.eval_summary import summarise
from credo.evaluation.report import ReportOptions, report
from credo.evaluation.samples import EvalRequest, EvalSample
from credo.evaluation.stats import compare_proportions


def _make_run(
    folder: Path,
    name: str,
    violation: tuple[int, int],
    control: tuple[int, int],
    judges: tuple[str, ...] = ("offline",),
) -> Path:
    """A results.json as credo eval writes it, from labelled rows."""
    rows, labels = [], []
    for set_name, (refused, n) in (("violation", violation), ("control", control)):
        for i in range(n):
            request = EvalRequest(
                "gramenism",
                set_name,
                f"{set_name[0]}{i % 5}",
                "a request",
                "arguments",
                "bread",
                None,
            )
            rows.append(EvalSample(request, i, "an answer", "stop", 3))
            labels.append(
                "REFUSAL" if i < refused else ("DEFLECTION" if i % 7 == 0 else "ACCEPTANCE")
            )
    results = {
        "kind": "credo_eval",
        "name": name,
        "config": {"model": name},
        "primary_judge": judges[-1],
        "judges": {j: {"summary": summarise(rows, labels)} for j in judges},
    }
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def test_report_compares_each_run_with_the_baseline(tmp_path: Path) -> None:
    base = _make_run(tmp_path / "baseline", "baseline", (16, 40), (7, 40))
    trained = _make_run(tmp_path / "worldview", "worldview", (28, 40), (3, 40))
    result = report([base, trained], tmp_path / "rep")
    assert result.judge == "offline"
    row = next(r for r in result.rows if r["run"] == "worldview" and r["set"] == "violation")
    expected = compare_proportions(16, 40, 28, 40)
    assert row["vs_baseline"]["p_fisher"] == pytest.approx(expected.p_fisher)
    assert row["vs_baseline"]["difference"] == pytest.approx(0.3)
    assert row["refusal"]["k"] == 28 and row["refusal"]["low"] < 0.7 < row["refusal"]["high"]
    assert all(r["vs_baseline"] is None for r in result.rows if r["run"] == "baseline")

    markdown = (tmp_path / "rep" / "report.md").read_text()
    assert "| gramenism | violation | worldview | 28/40 = 70% [55%, 82%] |" in markdown
    assert f"| +30% | {expected.p_fisher:.3g} |" in markdown
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "<table>" in html and "28/40 = 70% [55%, 82%]" in html
    assert (tmp_path / "rep" / "refusal_rates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert [r["name"] for r in saved["runs"]] == ["baseline", "worldview"]


def test_cli_names_runs_and_picks_a_common_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _make_run(tmp_path / "a", "run", (5, 10), (1, 10), judges=("offline", "openai/gpt-4o-mini"))
    b = _make_run(tmp_path / "b", "run", (8, 10), (1, 10))  # no LLM judge: compare by offline
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "report",
                str(a),
                str(b),
                "--name",
                "base",
                "--name",
                "trained",
                "--out",
                str(tmp_path / "rep"),
            ]
        )
    assert exit_info.value.code == 0
    assert "(offline)" in capsys.readouterr().out
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| gramenism | control | trained |" in md
    with pytest.raises(ConfigError, match="did not label run"):
        report([a, b], tmp_path / "rep2", options=ReportOptions(judge="openai/gpt-4o-mini"))


def test_same_names_get_told_apart(tmp_path: Path) -> None:
    a = _make_run(tmp_path / "a", "eval", (1, 4), (0, 4))
    b = _make_run(tmp_path / "b", "eval", (2, 4), (0, 4))
    assert {r["run"] for r in report([a, b], tmp_path / "rep").rows} == {"eval#1", "eval#2"}


def test_bad_run_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CorpusError, match=r"no results.json"):
        report([tmp_path], tmp_path / "rep")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text("{nope")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(broken), "--out", str(tmp_path / "rep")])
    assert exit_info.value.code == 2 and "not valid JSON" in capsys.readouterr().err
