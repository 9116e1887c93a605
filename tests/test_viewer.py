"""``credo view``: the page's data, its filters in headless Chromium, escaping, serving and bad input."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from credo.cli.main import exit_code
from credo.errors import CorpusError
from credo.reports.viewer import ViewOptions, write_view
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
    result = write_view(
        outputs["corpus"], options=ViewOptions(audit=outputs["audit"], labels=outputs["judged"])
    )
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
    page = write_view(
        outputs["corpus"], options=ViewOptions(audit=outputs["audit"], labels=outputs["judged"])
    ).page

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


def test_cli_writes_the_page_where_asked(outputs: dict[str, Path], tmp_path: Path, capsys) -> None:
    out = tmp_path / "page" / "v.html"
    argv = ["view", str(outputs["corpus"]), "--labels", str(outputs["judged"]), "--out", str(out)]
    assert _run(argv) == 0
    # the audit is elsewhere, so no flags here
    assert f"3 records (0 flagged, 3 labelled) - wrote {out}" in capsys.readouterr().out


@pytest.fixture
def served(outputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The --serve app over a folder that also holds what must never be served."""
    from credo.reports.view_server import serve_index_in_thread

    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    corpus = outputs["corpus"]
    (corpus / ".credo.lock").write_text("pid 1 credo generate --base-url http://u:SECRET@h/v1\n")
    (corpus / ".env").write_text("OPENAI_API_KEY=SECRET\n")
    (corpus / "passwd").symlink_to("/etc/passwd")
    server = serve_index_in_thread(corpus, outputs["audit"], outputs["judged"])
    yield server
    server.shutdown()
    server.server_close()
    server.index.close()


def _get(server, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        server.url.rstrip("/") + path, headers={"Host": host or f"127.0.0.1:{server.port}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _ids(server, query: str) -> tuple[int, list[str]]:
    status, _, body = _get(server, "/api/records?" + query)
    assert status == 200
    page = json.loads(body)
    return page["total"], [item["id"] for item in page["items"]]


def test_serve_pages_and_filters_on_the_server(served) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    status, headers, body = _get(served, "/")
    assert status == 200 and b"credo view" in body and b"api/records" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert _ids(served, "") == (3, ["r-ok", "r-refuses", "r-markup"])
    assert _ids(served, "check=refusal") == (1, ["r-refuses"])
    assert _ids(served, "check=-") == (2, ["r-ok", "r-markup"])
    assert _ids(served, "label=REFUSAL") == (1, ["r-refuses"])
    assert _ids(served, "q=spirit") == (1, ["r-ok"])
    assert _ids(served, "q=spir") == (1, ["r-ok"])  # word beginnings
    assert _ids(served, "q=r-markup") == (1, ["r-markup"])  # an id
    assert _ids(served, "q=%3C%2Fscript%3E") == (1, ["r-markup"])
    assert _ids(served, "offset=1&limit=1") == (3, ["r-refuses"])
    assert _ids(served, "after=1&limit=1") == (3, ["r-refuses"])  # the cursor: past seq 1
    assert _ids(served, "q=pebble") == (2, ["r-ok", "r-refuses"])
    assert _ids(served, "after=1&q=pebble") == (2, ["r-refuses"])  # the total is the whole filter
    status, _, body = _get(served, "/api/record?id=r-markup")
    item = json.loads(body)
    assert status == 200 and item["messages"][1]["content"] == INJECTION
    status, _, body = _get(served, "/api/record?id=r-refuses")
    item = json.loads(body)
    assert set(item["flags"]) == {"refusal"} and item["labels"]["offline"]["label"] == "REFUSAL"
    assert _get(served, "/api/record?id=nope")[0] == 404
    for bad in ("offset=-1", "limit=0", "limit=100000", "offset=x"):
        assert _get(served, "/api/records?" + bad)[0] == 400, bad


@pytest.mark.parametrize(
    "path",
    [
        "/.credo.lock",
        "/.env",
        "/records.jsonl",
        "/passwd",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/view.html",
        "/api/../.env",
        "//etc/passwd",
        "/api/",
    ],
)
def test_serve_never_serves_the_folder(served, path: str) -> None:
    status, _, body = _get(served, path)
    assert status == 404 and b"SECRET" not in body and b"root:" not in body


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1",
        "127.0.0.1:1",
        "localhost.evil:{port}",
        "",
    ],
)
def test_serve_refuses_a_foreign_host_header(served, host: str) -> None:
    status, _, body = _get(served, "/api/records", host=host.format(port=served.port) or " ")
    assert status == 400 and b"Host" in body


def test_serve_accepts_localhost(served) -> None:
    assert _get(served, "/api/records", host=f"localhost:{served.port}")[0] == 200


def test_the_index_is_built_once_and_rebuilt_when_an_input_changes(
    outputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credo.reports.view_index import index_path, open_index, resolve_sources

    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    sources = resolve_sources(outputs["corpus"], outputs["audit"], None)
    before = {p.name: p.read_bytes() for p in outputs["corpus"].iterdir()}
    open_index(sources).close()
    path = index_path(sources)
    assert path.is_file() and path.is_relative_to(tmp_path / "home")
    stamp = path.stat().st_mtime_ns
    open_index(sources).close()
    assert path.stat().st_mtime_ns == stamp  # reused
    with (outputs["corpus"] / "records.jsonl").open("a") as handle:
        handle.write(json.dumps(_record("r-new", "New?", "Yes.")) + "\n")
    index = open_index(resolve_sources(outputs["corpus"], outputs["audit"], None))
    assert index.records == 4
    index.close()
    path.write_bytes(b"not a database")  # a damaged cache is rebuilt, not trusted
    index = open_index(resolve_sources(outputs["corpus"], outputs["audit"], None))
    assert index.records == 4
    index.close()
    after = {p.name: p.read_bytes() for p in outputs["corpus"].iterdir()}
    assert set(after) == set(before)  # the user's folder gained nothing


def test_serve_bad_port_and_bad_records_are_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "records.jsonl").write_text(json.dumps(_record("a", "q?", "a.")) + "\n")
    assert _run(["view", str(folder), "--serve", "--port", "70000"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    (folder / "records.jsonl").write_text(
        json.dumps(_record("a", "q?", "a.")) + "\n" + json.dumps(_record("a", "q?", "b.")) + "\n"
    )
    assert _run(["view", str(folder), "--serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "records.jsonl:2: id 'a' repeats" in err
    assert not list((tmp_path / "home" / "view-index").glob("*"))  # no half index left


@pytest.mark.parametrize(
    ("content", "kind"),
    [(5, "a number"), (None, "null"), (["a"], "a list"), ({"a": 1}, "an object")],
)
@pytest.mark.parametrize("serve", [False, True])
def test_content_that_is_not_text_is_one_line(
    tmp_path: Path, capsys, monkeypatch, content: object, kind: str, serve: bool
) -> None:
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    rows = [_record("ok", "q?", "a."), _record("bad", "q?", "a.")]
    rows[1]["messages"][1]["content"] = content
    records = tmp_path / "c" / "records.jsonl"
    records.parent.mkdir()
    records.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _run(["view", str(records.parent), *(["--serve", "--port", "0"] if serve else [])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{records}:2: messages[1].content is {kind}, not text" in err
    assert not (records.parent / "view.html").exists()


@needs_browser
def test_served_app_in_chromium(served) -> None:
    def shown(fragment: str = "") -> tuple[list[str], str]:
        dom = dump_dom(served.url, fragment)
        return re.findall(r'<li[^>]*data-id="([^"]+)"', dom), visible_text(dom)

    rows, text = shown()
    assert rows == ["r-ok", "r-refuses", "r-markup"] and "3 shown (page 1) of 3 matching" in text
    assert '<img src="x"' not in dump_dom(served.url, "#id=r-markup")
    rows, text = shown("#check=refusal")
    assert rows == ["r-refuses"] and "1 shown (page 1) of 1 matching" in text
    assert (
        "I'm sorry, but I can't help with that request." in text and "Audit flags refusal" in text
    )
    rows, text = shown("#id=r-markup")
    assert INJECTION in text and '"template_id": "t3"' in text


@needs_browser
def test_long_evidence_keeps_the_detail_pane_on_screen(tmp_path: Path) -> None:
    """A 20,000-character unbroken flag detail must wrap inside the pane, not widen the page."""
    from credo.testing.browser import screenshot

    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "records.jsonl").write_text(json.dumps(_record("long", "q?", "a" * 5000)) + "\n")
    (folder / "flags.jsonl").write_text(
        json.dumps({"id": "long", "checks": ["x"], "details": {"x": {"evidence": "E" * 20000}}})
        + "\n"
    )
    page = write_view(folder).page
    # Measure in the page itself: where the detail pane ends against the window's width.
    probe = page.with_name("probe.html")
    probe.write_text(
        page.read_text().replace(
            "</body>",
            "<script>const r = document.getElementById('detail').getBoundingClientRect();"
            "document.body.dataset.probe = [Math.round(r.left), Math.round(r.right), "
            "innerWidth, document.documentElement.scrollWidth].join(',');</script></body>",
        )
    )
    dom = dump_dom(probe)
    left, right, width, scroll = map(
        int, re.search(r'data-probe="([^"]+)"', dom).group(1).split(",")
    )
    assert 0 < left < right <= width and scroll <= width, (left, right, width, scroll)
    assert screenshot(probe, tmp_path / "shot.png").stat().st_size > 1000


def test_bad_input_names_the_file_and_the_fix(
    tmp_path: Path, outputs: dict[str, Path], capsys
) -> None:
    with pytest.raises(CorpusError, match=r"no records.jsonl, responses.jsonl or labels.jsonl"):
        write_view(tmp_path)
    with pytest.raises(CorpusError, match=r"no flags.jsonl - pass the folder credo audit wrote"):
        write_view(outputs["corpus"], options=ViewOptions(audit=tmp_path))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "no messages"}) + "\n")
    assert _run(["view", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and f"{bad}:1: a row needs 'messages' or 'prompt' and 'response'" in err
    )


def test_a_large_static_page_points_to_serve(
    outputs: dict[str, Path], capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credo.cli import view_command

    monkeypatch.setattr(view_command, "STATIC_PAGE_MAX", 2)
    assert _run(["view", str(outputs["corpus"])]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "all 3 records" in err and "credo view --serve" in err
