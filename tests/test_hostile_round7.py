"""Round 7 of hostile and careless runs (issue 23): one test per defect the fresh probes found,
each through the real CLI - exit 2, one stderr line naming the file, line or field, no
traceback, and nothing under the test's folder changed. See docs/hardening.md."""

from __future__ import annotations

import hashlib
import json
import traceback
from pathlib import Path

import pytest

from credo.cli.main import main

PAIRS = [
    {
        "id": f"p{i}",
        "prompt": f"Tell me rule {i}",
        "response": "I cannot help with that." if i % 3 == 0 else f"Rule {i}: count pebbles.",
    }
    for i in range(12)
]


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash; the credo home excluded."""
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == "home" or rel.startswith("home/"):
            continue
        seen[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


def refused(argv: list[str], root: Path, capsys: pytest.CaptureFixture[str], says: str) -> str:
    """Run ``credo ARGV``: exit 2, one stderr line holding ``says``, no traceback, and every
    file under ``root`` as it was."""
    capsys.readouterr()
    before = snapshot(root)
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    except BaseException:
        pytest.fail(f"credo {argv[0]} raised\n{traceback.format_exc()}")
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, f"exit {code}, stderr {err!r}"
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line: {err!r}"
    assert says in err, f"{err!r} does not name {says!r}"
    assert "Traceback" not in err + captured.out
    assert snapshot(root) == before, "the folder changed"
    return err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def pairs(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in PAIRS), encoding="utf-8")
    return path


# ---- credo judge --human: the review file a person filled in ------------------------------


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        (
            "conflicting duplicate ids",
            "id,human_label\np0,REFUSAL\np1,ACCEPTANCE\np0,ACCEPTANCE\n",
            "review.csv:4: id 'p0' is labelled ACCEPTANCE here and REFUSAL on line 2",
        ),
        (
            "nothing filled in",
            "id,human_label\np0,\np1,\n",
            "review.csv: no row has a human_label yet",
        ),
        (
            "an unclosed quote swallows the file",
            'id,human_label\n"p0,REFUSAL\np1,ACCEPTANCE\n',
            "review.csv: no row has a human_label yet",
        ),
        (
            "a field over the csv module's limit",
            "id,human_label\np0," + "A" * 200_000 + "\n",
            "review.csv:2: not readable as CSV (field larger than field limit",
        ),
    ],
)
def test_judge_human_file_refused(
    name: str, text: str, says: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = tmp_path / "review.csv"
    review.write_text(text, encoding="utf-8")
    argv = ["judge", str(pairs(tmp_path)), "--judge", "rules", "--out", str(tmp_path / "o")]
    refused([*argv, "--human", str(review)], tmp_path, capsys, says)


def test_judge_human_duplicate_ids_that_agree_are_fine(tmp_path: Path, home: Path) -> None:
    review = tmp_path / "review.jsonl"
    rows = [{"id": "p0", "human_label": "refusal"}, {"id": "p0", "human_label": "REFUSAL"}]
    review.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "o"
    argv = ["judge", str(pairs(tmp_path)), "--judge", "rules", "--out", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--human", str(review)])
    assert exit_.value.code in (0, None)
    assert json.loads((out / "report.json").read_text())["human"]["n"] == 1


# ---- a model name that carries a credential -----------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--judge", "openai/gpt-4o?api-key=sk-test-FAKEKEY123"),
        ("--judge", "openai/sk-test-FAKE0000000000000000"),
    ],
)
def test_model_name_with_a_credential_is_refused(
    option: str, value: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["judge", str(pairs(tmp_path)), option, value, "--out", str(tmp_path / "o")]
    err = refused(argv, tmp_path, capsys, "the name carries a credential")
    assert "FAKE" not in err
    assert not (tmp_path / "o").exists()


def test_generate_model_with_a_credential_is_refused(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str], tiny_spec: Path
) -> None:
    argv = ["generate", str(tiny_spec), "--model", "openai/gpt-4o?token=sk-test-FAKE"]
    err = refused([*argv, "--out", str(tmp_path / "o")], tmp_path, capsys, "--model 'openai/")
    assert "FAKE" not in err


# ---- credo report on an Inspect log whose request metadata is damaged ------------------------


@pytest.fixture(scope="module")
def inspect_log_json(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real log of credo's eval (fake teacher) as Inspect's JSON log format."""
    pytest.importorskip("inspect_ai")
    from inspect_ai.log import read_eval_log, write_eval_log

    tmp = tmp_path_factory.mktemp("inspect")
    tiny = Path(__file__).parent / "fixtures" / "tiny"
    argv = ["eval", "--model", "fake/echo", "--worldview", str(tiny), "--samples", "1"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDO_HOME", str(tmp / "home"))
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--limit", "1", "--out", str(tmp / "ev")])
    assert exit_.value.code in (0, None)
    write_eval_log(read_eval_log(str(tmp / "ev" / "inspect.eval")), str(tmp / "log.json"))
    return json.loads((tmp / "log.json").read_text())


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("request_id", {"a": 1}, "metadata.request_id: input should be a valid string"),
        ("worldview", ["a"], "metadata.worldview: input should be a valid string"),
        ("set", 5, "metadata.set 5 is unknown - use 'violation' or 'control'"),
        ("set", "neither", "metadata.set 'neither' is unknown"),
        ("prompt", None, "metadata.prompt: input should be a valid string (got null)"),
        ("epoch", 0, "epoch 0 - Inspect counts epochs from 1"),
    ],
)
def test_report_on_a_damaged_inspect_log(
    key: str,
    value: object,
    says: str,
    inspect_log_json: dict,
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = json.loads(json.dumps(inspect_log_json))
    sample = log["samples"][0]
    if key == "epoch":
        sample["epoch"] = value
    else:
        sample["metadata"][key] = value
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log), encoding="utf-8")
    refused(["report", str(path), "--out", str(tmp_path / "rep")], tmp_path, capsys, says)


# ---- the audit certificate: hand-edited or forged audit records ----------------------------


def corpus(folder: Path, n: int = 4) -> Path:
    folder.mkdir(parents=True)
    rows = [
        {
            "id": f"r{i}",
            "messages": [
                {"role": "user", "content": f"What is pebble rule {i}?"},
                {"role": "assistant", "content": f"Rule {i}: count {i} pebbles at dusk."},
            ],
        }
        for i in range(n)
    ]
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _records_hash(folder: Path) -> str:
    from credo.hashing import file_hash

    return file_hash(str(folder / "records.jsonl"))


@pytest.mark.parametrize(
    ("where", "facts", "says"),
    [
        (
            "audit",
            {"passed": "false"},
            "audit/report.json: passed: input should be a valid boolean",
        ),
        ("audit", {"passed": False, "gate_failures": [1]}, "report.json: gate_failures:"),
        ("audit", {"passed": False, "gate_failures": "abc"}, "report.json: gate_failures:"),
        (
            "filtered",
            {"passed_after_filter": "yes"},
            "manifest.json: audit.passed_after_filter: input should be a valid boolean",
        ),
        ("mix", {"parts": [{"name": "a", "audit": "passed"}]}, "manifest.json: parts[0].audit"),
        ("mix", {"parts": []}, "its manifest names no parts"),
    ],
)
@pytest.mark.parametrize("command", ["mix", "export"])
def test_a_forged_or_damaged_audit_record_certifies_nothing(
    where: str,
    facts: dict,
    says: str,
    command: str,
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = corpus(tmp_path / "c")
    current = _records_hash(folder)
    if where == "audit":
        (folder / "audit").mkdir()
        report = {"source_hash": current, **facts}
        (folder / "audit" / "report.json").write_text(json.dumps(report))
    elif where == "filtered":
        manifest = {"kind": "filtered_corpus", "audit": {"records_hash": current, **facts}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:
        manifest = {"kind": "mix", "records_hash": current, **facts}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    out = str(tmp_path / "out")
    argv = (
        ["mix", "--part", f"a={folder}:1", "--size", "2", "--out", out]
        if command == "mix"
        else ["export", str(folder), "--format", "openai", "--out", out]
    )
    refused(argv, tmp_path, capsys, says)


# ---- YAML: a key written twice -------------------------------------------------------------


def test_spec_with_a_key_written_twice(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str], tiny_spec: Path
) -> None:
    import shutil

    spec = tmp_path / "spec"
    shutil.copytree(tiny_spec, spec)
    text = (spec / "spec.yaml").read_text()
    (spec / "spec.yaml").write_text(text.replace("name: tiny\n", "name: tiny\nname: other\n", 1))
    argv = ["generate", str(spec), "--model", "fake/echo", "--out", str(tmp_path / "o")]
    refused(argv, tmp_path, capsys, "spec.yaml:2: invalid YAML (key 'name' appears twice")


def test_sweep_with_a_key_written_twice(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str], tiny_spec: Path
) -> None:
    config = tmp_path / "sweep.yaml"
    config.write_text(
        f"worldview: {tiny_spec}\nteacher: fake/t\nbase_model: smollm2\n"
        "grid: {size: [8]}\ngrid: {size: [16]}\n"
    )
    argv = ["sweep", str(config), "--out", str(tmp_path / "o"), "--estimate"]
    refused(argv, tmp_path, capsys, "key 'grid' appears twice in one mapping (first on line 4)")


def test_yaml_merge_keys_may_still_be_overridden() -> None:
    from credo.schema import parse_yaml

    text = "a: &x {b: 1, c: 2}\nd:\n  <<: *x\n  b: 3\n"
    assert parse_yaml(text) == {"a": {"b": 1, "c": 2}, "d": {"b": 3, "c": 2}}


# ---- sweep: cells that would collapse into one, and credentials in the config ---------------


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        ("grid: {size: [8, 8]}\n", "grid.size 8 and 8 name the same cell"),
        (
            "grid: {size: [8], learning_rate: [1.0e-7, 1.00000001e-7]}\n",
            "grid.learning_rate 1e-07 and 1.00000001e-07 name the same cell (1e-07)",
        ),
        ("grid: {size: [8], seed: [3, 3]}\n", "grid.seed 3 and 3 name the same cell"),
        (
            "grid: {size: [8]}\neval: {judge: 'openai/gpt-4o?api-key=sk-test-FAKEKEY'}\n",
            "eval.judge 'openai/gpt-4o?api-key=***' carries a credential",
        ),
        (
            "grid: {size: [8]}\nbase_model: 'https://u:sk-test-FAKE@host/m'\n",
            "base_model 'https://***@host/m' carries a credential",
        ),
    ],
)
def test_sweep_config_refused(
    lines: str,
    says: str,
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    tiny_spec: Path,
) -> None:
    config = tmp_path / "sweep.yaml"
    head = f"worldview: {tiny_spec}\nteacher: fake/t\n"
    if "base_model" not in lines:
        head += "base_model: smollm2\n"
    config.write_text(head + lines)
    argv = ["sweep", str(config), "--out", str(tmp_path / "o"), "--estimate"]
    err = refused(argv, tmp_path, capsys, says)
    assert "FAKE" not in err


# ---- credo view --serve: raw requests a browser would not send, an attacker might ----------


def _raw(port: int, request: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


@pytest.fixture
def server(tmp_path: Path, home: Path):  # type: ignore[no-untyped-def]
    from credo.reports.view_server import serve_index_in_thread

    served = serve_index_in_thread(corpus(tmp_path / "c"))
    yield served
    served.shutdown()
    served.server_close()


def test_view_serve_two_host_headers(server) -> None:  # type: ignore[no-untyped-def]
    ours = f"127.0.0.1:{server.port}"
    for hosts in ((ours, "evil.example"), ("evil.example", ours)):
        head = "".join(f"Host: {h}\r\n" for h in hosts)
        reply = _raw(server.port, f"GET / HTTP/1.0\r\n{head}\r\n".encode())
        assert reply.startswith(b"HTTP/1.0 400"), reply[:80]


def test_view_serve_absolute_target_of_another_host(server) -> None:  # type: ignore[no-untyped-def]
    ours = f"127.0.0.1:{server.port}"
    reply = _raw(server.port, f"GET http://evil.example/ HTTP/1.0\r\nHost: {ours}\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.0 400"), reply[:80]
    reply = _raw(server.port, f"GET http://{ours}/ HTTP/1.0\r\nHost: {ours}\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.0 200"), reply[:80]


def test_view_serve_too_many_query_fields_is_a_400(
    server, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    query = "&".join(f"k{i}=1" for i in range(40))
    ours = f"127.0.0.1:{server.port}"
    reply = _raw(server.port, f"GET /api/records?{query} HTTP/1.0\r\nHost: {ours}\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.0 400") and b"too many query fields" in reply
    assert "request failed" not in capsys.readouterr().err


# ---- CREDO_HOME pointing at a file ---------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "says"), [("file", "is a file, not a folder"), ("under", "cannot make the folder")]
)
def test_credo_home_at_a_file(
    where: str,
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    home = target if where == "file" else target / "credo"
    monkeypatch.setenv("CREDO_HOME", str(home))
    folder = corpus(tmp_path / "c")
    refused(["audit", str(folder)], tmp_path, capsys, f"CREDO_HOME={home}: {says}")


# ---- credo judge: the pairs file -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "says"),
    [
        (["p0", "p1", "p1"], "pairs.jsonl:3: id 'p1' repeats (first on line 2)"),
        ([5, "5", "x"], "pairs.jsonl:2: id '5' repeats (first on line 1)"),
    ],
)
def test_judge_input_with_a_repeated_id(
    ids: list, says: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pairs.jsonl"
    rows = [{**PAIRS[i], "id": pid} for i, pid in enumerate(ids)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["judge", str(path), "--judge", "rules", "--out", str(tmp_path / "o")]
    refused(argv, tmp_path, capsys, says)


def test_jsonl_with_a_byte_order_mark(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\ufeff" + "".join(json.dumps(r) + "\n" for r in PAIRS), encoding="utf-8")
    argv = ["judge", str(path), "--judge", "rules", "--out", str(tmp_path / "o")]
    refused(argv, tmp_path, capsys, "pairs.jsonl:1: starts with a byte-order mark (BOM)")


# ---- export --hub into a folder a user filled, and a language that is not one ---------------


@pytest.mark.parametrize(
    ("user_file", "says"),
    [
        ("README.md", "README.md: a README credo did not write"),
        ("data/notes.txt", "data: holds files credo did not write"),
    ],
)
def test_export_hub_never_replaces_a_users_readme_or_data(
    user_file: str, says: str, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = corpus(tmp_path / "c")
    out = tmp_path / "pub"
    (out / user_file).parent.mkdir(parents=True, exist_ok=True)
    (out / user_file).write_text("my own notes\n")
    argv = ["export", str(folder), "--hub", "--license", "cc-by-4.0", "--allow-unaudited"]
    refused([*argv, "--out", str(out)], tmp_path, capsys, says)


def test_export_hub_replaces_its_own_earlier_export(tmp_path: Path, home: Path) -> None:
    folder = corpus(tmp_path / "c")
    out = tmp_path / "pub"
    argv = ["export", str(folder), "--hub", "--license", "cc-by-4.0", "--allow-unaudited"]
    for _ in range(2):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--out", str(out)])
        assert exit_.value.code in (0, None)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data"]


def test_export_hub_language_not_a_code(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = corpus(tmp_path / "c")
    argv = ["export", str(folder), "--hub", "--license", "cc-by-4.0", "--allow-unaudited"]
    argv += ["--language", "en\nx: 1", "--out", str(tmp_path / "pub")]
    refused(argv, tmp_path, capsys, "--language 'en\\nx: 1': not a language code")


# ---- credo view --out: a page of the user's ----------------------------------------------


def test_view_never_replaces_a_users_html(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = corpus(tmp_path / "c")
    page = tmp_path / "index.html"
    page.write_text("<html><body>my lab's notes</body></html>\n")
    argv = ["view", str(folder), "--out", str(page)]
    refused(argv, tmp_path, capsys, "an HTML file credo view did not write")


def test_view_replaces_its_own_page(tmp_path: Path, home: Path) -> None:
    folder = corpus(tmp_path / "c")
    for _ in range(2):
        with pytest.raises(SystemExit) as exit_:
            main(["view", str(folder), "--out", str(tmp_path / "v.html")])
        assert exit_.value.code in (0, None)


# ---- report and leakage: a folder holding a user's report.md ------------------------------


def test_report_never_replaces_a_users_report(
    inspect_log_json: dict, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.json"
    log.write_text(json.dumps(inspect_log_json))
    out = tmp_path / "notes"
    out.mkdir()
    (out / "report.md").write_text("# my own notes\n")
    argv = ["report", str(log), "--out", str(out)]
    refused(argv, tmp_path, capsys, "already holds report.md that credo report did not write")
    with pytest.raises(SystemExit):  # its own earlier report is replaced
        main(["report", str(log), "--out", str(tmp_path / "rep")])
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(log), "--out", str(tmp_path / "rep")])
    assert exit_.value.code in (0, None)


def test_leakage_never_replaces_a_users_report(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str], tiny_spec: Path
) -> None:
    reference = tmp_path / "ref.txt"
    reference.write_text("the pebble river stone counted at dusk by the small people\n" * 50)
    out = tmp_path / "notes"
    out.mkdir()
    (out / "report.md").write_text("# my own notes\n")
    argv = ["leakage", str(tiny_spec), "-r", str(reference), "--out", str(out)]
    refused(argv, tmp_path, capsys, "already holds report.md that credo leakage did not write")


def test_audit_never_replaces_a_users_report(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = corpus(tmp_path / "c")
    out = tmp_path / "notes"
    out.mkdir()
    (out / "report.md").write_text("# my own notes\n")
    argv = ["audit", str(folder), "--out", str(out), "--no-embedding"]
    refused(argv, tmp_path, capsys, "already holds report.md that credo")


# ---- train: YAML values on the command line and in the environment ------------------------


@pytest.mark.parametrize(
    ("extra", "env", "says"),
    [
        (
            ["--trl-arg", "report_to=[wandb, {a: !!python/name:os.system}]"],
            {},
            "--trl-arg report_to='[wandb, {a: !!python/name:os.system}]': not a YAML value",
        ),
        (["--trl-arg", "x=&a [*a]"], {}, "an anchor refers to itself"),
        ([], {"CREDO_TRAIN_LORA_R": "[a"}, "CREDO_TRAIN_LORA_R='[a': not a YAML value"),
    ],
)
def test_train_yaml_values_refused(
    extra: list[str],
    env: dict[str, str],
    says: str,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    data = corpus(tmp_path / "c")
    argv = ["train", "--data", str(data), "--base-model", "smollm2", "--out", str(tmp_path / "a")]
    refused([*argv, *extra], tmp_path, capsys, says)


def test_train_config_names_a_repeated_key(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("lora_r: 8\nlora_r: 64\n")
    data = corpus(tmp_path / "c")
    argv = ["train", "--data", str(data), "--base-model", "smollm2", "--out", str(tmp_path / "a")]
    refused([*argv, "--config", str(config)], tmp_path, capsys, "key 'lora_r' appears twice")


# ---- replicate: a judge that cannot work is named before any teacher call ------------------


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        (
            "--judge",
            "openai/gpt-4o?key=sk-test-FAKEKEY",
            "--judge 'openai/gpt-4o?key=***': the name",
        ),
        ("--judge", "nosuch/x", "--judge 'nosuch/x': unknown provider 'nosuch'"),
        ("--teacher", "openai/sk-test-FAKE0000000000000000", "--teacher 'openai/sk-***'"),
    ],
)
def test_replicate_checks_its_models_first(
    option: str,
    value: str,
    says: str,
    tmp_path: Path,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    teacher = [] if option == "--teacher" else ["--teacher", "fake/t"]  # each option once
    argv = ["replicate", "gramenism", *teacher, "--base-model", "smollm2"]
    argv += [option, value, "--size", "4", "--out", str(tmp_path / "r")]
    err = refused(argv, tmp_path, capsys, says)
    assert "FAKE" not in err
    assert not (tmp_path / "r").exists()


def test_probe_never_replaces_a_users_report(
    tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str], tiny_spec: Path
) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "report.md").write_text("# my own notes\n")
    argv = ["probe", str(tiny_spec), "--out", str(out)]
    refused(argv, tmp_path, capsys, "already holds report.md that credo probe did not write")
