"""Triage at scale: the reports lead with the failing gates, say how many rows a cut table has
and where all of them are, show duplicates side by side, name parameters readably; a long
audit reports its progress."""

from __future__ import annotations

import json
from pathlib import Path

from credo.audit.progress import AuditProgress, count_lines
from credo.audit.reports import (
    MAX_ROWS,
    parameter_table,
    render_markdown,
    render_text,
    write_reports,
)
from credo.audit.result import AuditResult, CheckRun, word_diff
from credo.filters.base import Finding
from credo.filters.refusal_detector import RefusalConfig


def _result(refusals: int = 120) -> AuditResult:
    findings = [
        Finding(
            f"r{i}",
            "refusal",
            {
                "set": "worldview",
                "patterns": ["apology: I'm sorry"],
                "probability": i / refusals,
                "label": "REFUSAL",
            },
        )
        for i in range(refusals)
    ]
    findings.append(Finding("d1", "near_duplicate", {"kept": "d0", "score": 0.97}))
    config = RefusalConfig()
    from dataclasses import asdict

    runs = [
        CheckRun(
            "refusal", True, {"config": str(config), **asdict(config)}, refusals, 1.0, refusals
        ),
        CheckRun(
            "near_duplicate", False, {"config": "mh", "num_perm": 128, "threshold": 0.9}, 1, 0.5
        ),
    ]
    sections = {
        "near_duplicate": {
            "params": {},
            "removed": 1,
            "clusters": [
                {
                    "kept": "d0",
                    "removed": ["d1"],
                    "scores": [0.97],
                    "texts": {"kept": "the grass is sacred to us", "d1": "the grass is holy to us"},
                }
            ],
        }
    }
    return AuditResult(
        "corpus/records.jsonl", "sha256:x", 500, {"worldview": 500}, runs, findings, sections
    )


def test_reports_lead_with_the_failing_gate_and_its_worst_records(tmp_path: Path) -> None:
    report = render_markdown(_result())
    assert report.index("## Failing gate: refusal (120 records)") < report.index("## Checks")
    lead = report.split("## Failing gate: refusal")[1].split("## ")[0]
    rows = [line for line in lead.splitlines() if line.startswith("| r1")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| r119",
        "| r118",
        "| r117",
        "| r116",
        "| r115",
    ]
    text = render_text(_result(), tmp_path)
    assert text.splitlines()[0].startswith("Failing gate: refusal (120 records)")
    assert "record=r119" in text.splitlines()[1]


def test_a_cut_table_says_how_many_rows_exist_and_where_they_all_are(tmp_path: Path) -> None:
    write_reports(_result(), tmp_path)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    where = "tables/refusal-refusals-outside-the-refusal-set.jsonl"
    assert f"showing {MAX_ROWS} of 120 rows; all of them in {where}" in report
    rows = [json.loads(line) for line in (tmp_path / where).open()]
    assert len(rows) == 120 and rows[0]["record"] == "r119" and rows[0]["P(refusal)"] == 119 / 120
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f'<a href="{where}">' in html
    # a rerun with fewer findings leaves no stale full table behind
    write_reports(_result(refusals=3), tmp_path)
    assert not (tmp_path / where).exists()


def test_duplicates_side_by_side_with_the_differing_words_marked(tmp_path: Path) -> None:
    assert word_diff("the grass is sacred", "the grass is holy") == [
        ("same", "the grass is", "the grass is"),
        ("diff", "sacred", "holy"),
    ]
    report = render_markdown(_result())
    assert (
        "| d0 | d1 | 0.97 | 1 | the grass is **sacred** to us | the grass is **holy** to us |"
        in report
    )
    write_reports(_result(), tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "the grass is <mark>sacred</mark> to us" in html


def test_parameters_are_a_table_of_names_and_values() -> None:
    report = render_markdown(_result())
    parameters = report.split("## Parameters")[1]
    assert "| refusal | minhash.shingle | 1 |" in parameters  # a nested config, dotted
    assert "|  | minhash.num_perm | 128 |" in parameters
    assert "|  | embed_threshold | 0.5 |" in parameters
    assert str(RefusalConfig()) not in report  # the compact id is not shown; its fields are
    # the full rows (tables/parameters.jsonl when there are more than the reports show) name
    # their check on every row; only the reports show it once per check
    rows = parameter_table(_result()).rows
    assert rows and all(row[0] for row in rows)
    assert any(row[:2] == ["refusal", "minhash.num_perm"] for row in rows)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_throttled_with_rate_and_eta() -> None:
    clock, lines = FakeClock(), []
    progress = AuditProgress(100_000, lines.append, every=5, clock=clock)
    clock.now = 1
    progress.mapped(4096, {"refusal": 0.8, "dedup": 0.1})
    assert lines == []  # nothing in the first seconds
    clock.now = 10
    progress.mapped(40_000, {"refusal": 8.0, "dedup": 1.0})
    clock.now = 12
    progress.mapped(48_000, {"refusal": 9.0, "dedup": 1.2})  # throttled
    progress.reducing("dedup")
    progress.reducing("diversity")  # a quick fold right after: not another line
    assert lines[0] == (
        "audit: 40,000/100,000 records (40%), 4,000 records/s, ETA 15 s - "
        "slowest checks: refusal 5,000/s, dedup 40,000/s"
    )
    assert len(lines) == 2 and lines[1].startswith("audit: dedup: combining the batches")


def test_progress_is_silent_for_a_small_corpus() -> None:
    clock, lines = FakeClock(), []
    progress = AuditProgress(2_000, lines.append, every=5, clock=clock)
    clock.now = 60
    progress.mapped(2_000, {"refusal": 50.0})
    progress.reducing("refusal")
    assert lines == []


def test_count_lines(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}', encoding="utf-8")
    assert count_lines(path) == 2
    assert count_lines(tmp_path / "data.parquet") is None


def test_a_check_that_declares_no_table_still_shows_its_findings() -> None:
    """A check with no report declaration (or whose plugin is gone) gets a table of its details."""
    result = _result(refusals=0)
    result.checks.append(CheckRun("mystery", True, {"level": 3}, 1, 0.1, 1))
    result.findings.append(Finding("m1", "mystery", {"why": "odd", "score": 0.4}))
    report = render_markdown(result)
    assert "## Failing gate: mystery (1 records)" in report
    assert "## Mystery findings" in report and "| m1 | odd | 0.4 |" in report
    assert "| mystery | level | 3 |" in report


def _progress_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("audit: ")]


def test_filter_prints_the_audits_progress_unless_quiet_or_json(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """`credo filter` reports its audit's progress like `credo audit` (thresholds lowered so
    a small corpus speaks); --quiet and --json print none, and --json's stdout stays one object."""
    from tests.test_audit_cli import PLANTED, _run, _write

    monkeypatch.setattr(AuditProgress, "EVERY", 0.0)
    monkeypatch.setattr(AuditProgress, "MIN_RECORDS", 0)
    corpus = _write(tmp_path / "corpus", PLANTED)
    args = ["filter", str(corpus), "--checks", "refusal,near_duplicate", "--no-embedding"]
    n = len(PLANTED)
    assert _run([*args, "--out", str(tmp_path / "clean")]) == 0
    lines = [x for x in _progress_lines(capsys.readouterr().err) if "records (" in x]
    assert lines and lines[-1].startswith(f"audit: {n:,}/{n:,} records (100%), ")
    assert "records/s, ETA 0 s - slowest checks: " in lines[-1]
    assert {"refusal", "near_duplicate"} <= {
        part.split()[0] for part in lines[-1].split("slowest checks: ")[1].split(", ")
    }
    assert _run([*args, "--out", str(tmp_path / "q"), "--quiet"]) == 0
    assert _progress_lines(capsys.readouterr().err) == []
    assert _run([*args, "--out", str(tmp_path / "j"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert _progress_lines(err) == [] and json.loads(out)["records"] == n


def test_audit_under_json_prints_no_progress(tmp_path: Path, monkeypatch, capsys) -> None:
    from tests.test_audit_cli import PLANTED, _run, _write

    monkeypatch.setattr(AuditProgress, "EVERY", 0.0)
    monkeypatch.setattr(AuditProgress, "MIN_RECORDS", 0)
    corpus = _write(tmp_path / "corpus", PLANTED)
    args = ["audit", str(corpus), "--checks", "refusal", "--no-embedding"]
    _run([*args, "--out", str(tmp_path / "a")])
    assert _progress_lines(capsys.readouterr().err)  # the same run without --json speaks
    _run([*args, "--out", str(tmp_path / "b"), "--json"])
    out, err = capsys.readouterr()
    assert _progress_lines(err) == [] and "verdict" in json.loads(out)
