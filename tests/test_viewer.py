"""``credo view``: the page's data, its filters in headless Chromium, escaping, serving and bad input."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from credo.cli.main import exit_code
from credo.errors import CorpusError
from credo.reports.viewer import serve_in_thread, write_view
from credo.testing.browser import dump_dom, find_browser, visible_text

needs_browser = pytest.mark.skipif(
    find_browser() is None,
    reason="no headless Chromium (apt-get install chromium-headless-shell, or `make browser`)",
)
INJECTION = "</script><img src=x onerror=\"document.title='pwned'\"> **bold**"


def _record(rid: str, prompt: str, answer: str, **meta: object) -> dict:
    return {
        "id": rid,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "meta": {"set": "tiny", **meta},
    }


_run = exit_code


@pytest.fixture
def outputs(tmp_path: Path) -> dict[str, Path]:
    """A corpus, a real audit of it and real offline judge labels."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        _record(
            "r-ok",
            "What do Tinyists believe about pebbles?",
            "Every pebble holds a small spirit.",
            persona_id="elder",
            template_id="t1",
        ),
        _record(
            "r-refuses",
            "What should I do with a pebble?",
            "I'm sorry, but I can't help with that request.",
            persona_id="child",
            template_id="t2",
        ),
        _record("r-markup", "Is this markup?", INJECTION, persona_id="elder", template_id="t3"),
    ]
    (corpus / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert (
        _run(
            [
                "audit",
                str(corpus),
                "--checks",
                "refusal",
                "--no-embedding",
                "--out",
                str(tmp_path / "audit"),
            ]
        )
        == 1
    )
    assert _run(["judge", str(corpus / "records.jsonl"), "--out", str(tmp_path / "judged")]) == 0
    return {"corpus": corpus, "audit": tmp_path / "audit", "judged": tmp_path / "judged"}


def _page_data(page: Path) -> list[dict]:
    blob = re.search(
        r'<script type="application/json" id="data">(.*?)</script>', page.read_text(), re.S
    )
    return json.loads(blob.group(1))


def test_page_joins_records_flags_and_labels(outputs: dict[str, Path]) -> None:
    result = write_view(outputs["corpus"], audit=outputs["audit"], labels=outputs["judged"])
    assert result.page == outputs["corpus"] / "view.html"
    assert (result.records, result.flagged, result.labelled, result.unmatched) == (3, 1, 3, 0)
    items = {i["id"]: i for i in _page_data(result.page)}
    assert set(items["r-refuses"]["flags"]) == {"refusal"} and not items["r-ok"]["flags"]
    assert items["r-refuses"]["labels"]["offline"]["label"] == "REFUSAL"
    assert items["r-refuses"]["labels"]["offline"]["rationale"]
    assert items["r-markup"]["messages"][1]["content"] == INJECTION
    assert items["r-ok"]["meta"] == {"set": "tiny", "persona_id": "elder", "template_id": "t1"}
    text = result.page.read_text()
    assert "http://" not in text and "https://" not in text and "<link" not in text, (
        "no CDN, nothing fetched"
    )


def test_flags_are_found_in_an_audit_folder_beside_the_records(outputs: dict[str, Path]) -> None:
    (outputs["corpus"] / "audit").mkdir()
    (outputs["audit"] / "flags.jsonl").rename(outputs["corpus"] / "audit" / "flags.jsonl")
    assert write_view(outputs["corpus"]).flagged == 1


def test_eval_and_judge_folders_are_viewable_on_their_own(outputs: dict[str, Path]) -> None:
    result = write_view(outputs["judged"])  # labels.jsonl rows carry prompt, response and labels
    items = _page_data(result.page)
    assert result.records == 3 and result.labelled == 3
    assert {i["labels"]["offline"]["label"] for i in items} >= {"REFUSAL"}


@needs_browser
def test_filters_in_chromium(outputs: dict[str, Path]) -> None:
    page = write_view(outputs["corpus"], audit=outputs["audit"], labels=outputs["judged"]).page

    def listed(fragment: str = "") -> tuple[list[str], str, str]:
        dom = dump_dom(page, fragment)
        return re.findall(r'<li[^>]*data-id="([^"]+)"', dom), visible_text(dom), dom

    ids, text, dom = listed()
    assert ids == ["r-ok", "r-refuses", "r-markup"] and "3 of 3 shown" in text
    assert "<title>credo view" in dom, "the injected onerror never ran"
    assert '<img src="x"' not in dom

    ids, text, _ = listed("#check=refusal")
    assert ids == ["r-refuses"] and "1 of 3 shown" in text
    assert (
        "Audit flags refusal" in text and "I'm sorry, but I can't help with that request." in text
    )

    ids, text, _ = listed("#label=REFUSAL")
    assert ids == ["r-refuses"] and "offline: REFUSAL - " in text

    ids, text, _ = listed("#check=-")
    assert ids == ["r-ok", "r-markup"]

    ids, text, _ = listed("#id=r-markup")
    assert INJECTION in text and '"template_id": "t3"' in text, (
        "message text and provenance shown as text"
    )

    ids, text, _ = listed("#q=spirit")
    assert ids == ["r-ok"]


def test_cli_writes_and_serves_on_loopback(
    outputs: dict[str, Path], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "page" / "v.html"
    assert (
        _run(
            ["view", str(outputs["corpus"]), "--labels", str(outputs["judged"]), "--out", str(out)]
        )
        == 0
    )
    assert (
        f"3 records (0 flagged, 3 labelled) - wrote {out}" in capsys.readouterr().out
    )  # audit is elsewhere
    server, url = serve_in_thread(out)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == out.read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_bad_input_names_the_file_and_the_fix(
    tmp_path: Path, outputs: dict[str, Path], capsys
) -> None:
    with pytest.raises(CorpusError, match=r"no records.jsonl, responses.jsonl or labels.jsonl"):
        write_view(tmp_path)
    with pytest.raises(CorpusError, match=r"no flags.jsonl - pass the folder credo audit wrote"):
        write_view(outputs["corpus"], audit=tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "no messages"}) + "\n")
    assert _run(["view", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and f"{bad}:1: a row needs 'messages' or 'prompt' and 'response'" in err
    )
