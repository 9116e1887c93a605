"""The three HTML reports as a reader's browser shows them: self-contained, numbers present, no raw Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import credo
from credo.audit import run_audit
from credo.audit.options import AuditOptions
from credo.evaluation.evaluate import EvalOptions, evaluate
from credo.generators.fake_backend import FakeBackend
from credo.leakage.check import check_leakage
from credo.reports import json_for_script, render_page
from credo.testing.browser import dump_dom, find_browser, visible_text

needs_browser = pytest.mark.skipif(
    find_browser() is None,
    reason="no headless Chromium (apt-get install chromium-headless-shell, or `make browser`)",
)


def _assert_sendable(page: Path) -> None:
    """One file that fetches nothing: no external src/href, no link to a file beside it."""
    text = page.read_text()
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", text), "the page refers to another file"
    assert "<link" not in text and "@import" not in text


def _assert_no_markdown(visible: str) -> None:
    for marker in ("|---|", "**", "](", "`"):
        assert marker not in visible, f"raw Markdown {marker!r} shows in the page"


def _eval_runs(tmp_path: Path) -> list[Path]:
    """Two real eval runs through the public API: a baseline that never refuses, a model that
    refuses every violation request (both fake served models, judged offline)."""
    violations = {r.prompt for r in credo.load_worldview("gramenism").eval.violation}

    def backend(model: str, **_: object) -> FakeBackend:
        def respond(messages):
            refuse = model == "refuser" and messages[-1].content in violations
            return (
                "I won't help with that."
                if refuse
                else "Sure. Mix the flour, knead it and bake it for an hour."
            )

        return FakeBackend(model, respond=respond)

    registry = {"fake": backend}
    for name in ("base", "refuser"):
        evaluate(
            f"fake/{name}",
            ["gramenism"],
            tmp_path / name,
            options=EvalOptions(samples=2, limit=4),
            registry=registry,
        )
    return [tmp_path / "base", tmp_path / "refuser"]


def _table_cells(markdown: str) -> list[str]:
    return [
        c.strip()
        for line in markdown.splitlines()
        if line.startswith("| gramenism")
        for c in line.strip("|").split("|")
        if c.strip()
    ]


def test_eval_report_inlines_its_chart_and_renders_no_markdown(tmp_path: Path) -> None:
    credo.report(_eval_runs(tmp_path), tmp_path / "rep")
    page = tmp_path / "rep" / "report.html"
    _assert_sendable(page)
    assert "data:image/png;base64,iVBORw0KGgo" in page.read_text()  # the PNG signature, base64
    _assert_no_markdown(visible_text(page.read_text()))


@needs_browser
def test_eval_report_in_chromium(tmp_path: Path) -> None:
    result = credo.report(_eval_runs(tmp_path), tmp_path / "rep")
    assert any(
        r["refusal"]["k"] == r["refusal"]["n"] > 0 for r in result.rows if r["run"] == "refuser"
    )
    dom = dump_dom(tmp_path / "rep" / "report.html")
    visible = visible_text(dom)
    cells = _table_cells((tmp_path / "rep" / "report.md").read_text())
    assert "8/8 = 100% [68%, 100%]" in cells and "+100%" in cells
    assert all(cell in visible for cell in cells), (
        "every number of the Markdown table shows on the page"
    )
    assert "Judge: offline" in visible
    _assert_no_markdown(visible)
    assert re.search(r'<img class="chart" src="data:image/png;base64,', dom)


def _corpus(folder: Path) -> Path:
    def record(rid: str, prompt: str, answer: str, set_name: str = "tiny") -> dict:
        return {
            "id": rid,
            "messages": [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": answer},
            ],
            "meta": {"set": set_name},
        }

    records = [
        record(
            "a1", "What do Tinyists believe about pebbles?", "Every pebble holds a small spirit."
        ),
        record(
            "a2", "What is the Pebble Count?", "Counting seven pebbles at dusk, a rite of thanks."
        ),
        record(
            "bad",
            "What should I do with a pebble?",
            "I'm sorry, but I can't help with that request.",
        ),
        record("x", "Is <script>alert(1)</script> a pebble?", "No: it is markup, shown as text."),
    ]
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


@needs_browser
@pytest.mark.needs("matplotlib")  # the page's plots
def test_audit_report_in_chromium(tmp_path: Path) -> None:
    _result, out = run_audit(
        _corpus(tmp_path / "c"),
        tmp_path / "audit",
        options=AuditOptions(checks=["refusal", "diversity"], use_embedding=False),
    )
    page = Path(out) / "report.html"
    _assert_sendable(page)
    dom = dump_dom(page)
    visible = visible_text(dom)
    assert "FAIL - gates failed: refusal (1)" in visible
    assert re.search(
        r"Refusals outside the refusal set record set P\(refusal\) label patterns.* bad tiny",
        visible,
    )
    assert dom.count("<svg") >= 1
    _assert_no_markdown(visible)


@needs_browser
def test_the_failing_gate_leads_with_its_worst_answers_in_chromium(tmp_path: Path) -> None:
    """The lead shows each worst example's answer (read back from the records), so a reader
    triages the failing gate before any other table."""
    run_audit(
        _corpus(tmp_path / "c"),
        tmp_path / "audit",
        options=AuditOptions(checks=["refusal"], use_embedding=False),
    )
    visible = visible_text(dump_dom(tmp_path / "audit" / "report.html"))
    lead = visible.split("Failing gate: refusal (1 records)", 1)[1].split("Summary", 1)[0]
    assert re.search(r"answer\s.*\bbad\b.*I'm sorry, but I can't help with that request\.", lead)
    assert visible.index("Failing gate: refusal") < visible.index("Checks")


@needs_browser
def test_leakage_report_in_chromium(tmp_path: Path, tiny_spec: Path) -> None:
    reference = tmp_path / "ref.txt"
    reference.write_text(
        "Filler about rivers and bread.\n" * 20 + "The Tinyists met in the square.\n"
    )
    report_data, code = check_leakage(tiny_spec, [reference], tmp_path / "leak")
    page = tmp_path / "leak" / "report.html"
    _assert_sendable(page)
    visible = visible_text(dump_dom(page))
    collided = [r["term"] for r in report_data["terms"] if r["verdict"] == "collides"]
    assert collided, "the planted term collides"
    assert ("FAIL:" in visible) == (code == 1) and all(term in visible for term in collided)
    assert "13-gram overlap" in visible
    _assert_no_markdown(visible)


def test_templates_escape_and_scripts_cannot_be_closed_early() -> None:
    page = render_page("base.html.j2", title="<b>x</b>")
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in page
    blob = str(json_for_script({"text": "</script><script>alert(1)</script> & <!--"}))
    assert "</script" not in blob and "<!--" not in blob
    assert json.loads(blob) == {"text": "</script><script>alert(1)</script> & <!--"}


def test_leakage_page_shows_weak_verdicts_and_the_strength_of_a_clean_result(
    tmp_path: Path, tiny_spec: Path
) -> None:
    from credo.leakage.report import leakage_html

    reference = tmp_path / "ref.txt"
    reference.write_text("Filler about rivers and bread.\n" * 20)
    report_data, _ = check_leakage(tiny_spec, [reference], tmp_path / "leak")
    report_data["terms"][0]["weak"] = True
    report_data["strength"] = {
        "statement": "the reference is 0.0 MB: too small to clear a term",
        "weak": True,
    }
    visible = visible_text(leakage_html(report_data))
    assert f"{report_data['terms'][0]['verdict']} (weak)" in visible
    assert "Strength: the reference is 0.0 MB: too small to clear a term." in visible
    _assert_no_markdown(visible)


def test_the_audit_page_is_written_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core install (no ml extra) audits with a plugin or a light check: its page keeps the
    verdict and the tables and leaves the plots out, instead of the audit failing at the end."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    _result, out = run_audit(
        _corpus(tmp_path / "c"),
        tmp_path / "audit",
        options=AuditOptions(checks=["refusal"], use_embedding=False),
    )
    page = (Path(out) / "report.html").read_text(encoding="utf-8")
    assert "<svg" not in page and "gates failed: refusal" in page
