"""Plugins: a package outside credo adds a check, a backend and an export format through entry
points, and the commands use them with no edit to credo/.

The toy package (tests/plugins/credo_toyplugin) is installed by pip itself (``pip install
--target``, from a copy of its folder, offline): its code and a ``.dist-info`` holding the entry
points pip read from its pyproject.toml land in a fresh folder put on the path. The CLI runs in a
subprocess, as a user's shell would run it. The error-path tests below write only the metadata
(a dist-info naming entry points that clash or are missing), which is all they need.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from credo.errors import ConfigError
from credo.plugins import BACKENDS, EXPORTS, FILTERS, reset
from credo.types import Message, Record

TOY = Path(__file__).parent / "plugins" / "credo_toyplugin"
REPO = Path(__file__).parent.parent


def install(site: Path, entry_points: dict[str, dict[str, str]]) -> None:
    """The metadata ``pip install`` leaves behind: a dist-info with the entry points (the
    code itself is made importable by putting its folder on the path)."""
    info = site / "credo_toyplugin-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: credo-toyplugin\nVersion: 0.1.0\n", encoding="utf-8"
    )
    lines = []
    for group, points in entry_points.items():
        lines += [f"[{group}]", *(f"{name} = {value}" for name, value in points.items()), ""]
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")


def toy_entry_points() -> dict[str, dict[str, str]]:
    project = tomllib.loads((TOY / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["entry-points"]


@pytest.fixture(scope="module")
def toy_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy package as ``pip install`` leaves it, in a fresh target folder. Built from a copy
    (setuptools writes build/ and egg-info beside the sources), with no index and no build
    isolation: the dev extra's setuptools builds it offline."""
    root = tmp_path_factory.mktemp("toy")
    source = shutil.copytree(TOY, root / "source")
    site = root / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    done = subprocess.run(
        [*pip, "--no-build-isolation", "--target", str(site), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return site


@pytest.fixture
def toy_site(toy_installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The installed toy plugin, seen by this process and its children; nothing else of it is
    on the path (the source folder is not)."""
    monkeypatch.syspath_prepend(str(toy_installed))
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join([str(toy_installed), str(REPO), os.environ.get("PYTHONPATH", "")]),
    )
    reset()
    yield toy_installed
    reset()


def test_the_toy_is_a_real_install_and_credo_never_names_it(toy_site: Path) -> None:
    """pip wrote the entry points from the toy's pyproject.toml, the code runs from the install,
    and no file in credo/ mentions the toy package: adding it took no edit there."""
    from importlib.metadata import distribution

    import credo_toyplugin.check

    dist = distribution("credo-toyplugin")
    assert {(e.group, e.name, e.value) for e in dist.entry_points} == {
        (group, name, value)
        for group, points in toy_entry_points().items()
        for name, value in points.items()
    }
    assert Path(credo_toyplugin.check.__file__).is_relative_to(toy_site)
    mentions = [
        str(path)
        for path in (REPO / "credo").rglob("*")
        if path.is_file() and b"toyplugin" in path.read_bytes()
    ]
    assert mentions == []


def credo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from credo.cli.main import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def corpus(folder: Path) -> Path:
    folder.mkdir()
    answers = ["Grass is sacred to us.", "WE NEVER CUT THE GRASS!", "A quiet answer, calmly given."]
    records = [
        Record(
            f"r{i}",
            [Message("user", f"Question {i}?"), Message("assistant", a)],
            {"set": "worldview"},
        )
        for i, a in enumerate(answers)
    ]
    (folder / "records.jsonl").write_text(
        "".join(json.dumps(r.to_json()) + "\n" for r in records), encoding="utf-8"
    )
    return folder


def test_toy_check_audits_from_the_command_line(toy_site: Path, tmp_path: Path) -> None:
    data = corpus(tmp_path / "corpus")
    run = credo(
        "audit", str(data), "--checks", "toy", "--out", str(tmp_path / "audit"), cwd=tmp_path
    )
    assert run.returncode == 1, run.stderr  # the toy gate fails on the shouting record
    assert "Failing gate: toy (1 records)" in run.stdout
    report = (tmp_path / "audit" / "report.md").read_text(encoding="utf-8")
    # the reports render the plugin's declared table, with no code for it in credo/
    assert "## Shouting answers" in report and "| r1 |" in report
    assert report.index("Failing gate: toy") < report.index("## Checks")
    html = (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    assert "Shouting answers" in html and "share upper case" in html
    flags = [json.loads(line) for line in (tmp_path / "audit" / "flags.jsonl").open()]
    assert [f["id"] for f in flags] == ["r1"]


def test_toy_check_takes_its_options_in_the_library(toy_site: Path, tmp_path: Path) -> None:
    from credo.audit.options import AuditOptions
    from credo.audit.runner import audit_corpus

    data = corpus(tmp_path / "corpus")
    result, _ = audit_corpus(
        data,
        options=AuditOptions(checks=["toy"], check_options={"toy": {"max_upper": 0.01}}),
    )
    assert {f.record_id for f in result.findings} == {"r0", "r1", "r2"}
    assert result.checks[0].params == {"max_upper": 0.01}


def test_toy_backend_generates_and_declares_secrets_and_prices(
    toy_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "gen"
    run = credo(
        "generate", "gramenism", "--model", "toy/shout-1", "--limit", "2", "--out", str(out),
        "--no-cache", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in (out / "records.jsonl").open()]
    assert len(records) == 2
    assert all(r["messages"][-1]["content"].startswith("TOY ANSWER:") for r in records)

    from credo.generators.pricing import load_price_table
    from credo.generators.registry import all_backends
    from credo.types import Usage

    monkeypatch.setenv("TOY_API_KEY", "toy-secret-123")
    from credo.redact import scrub

    all_backends()  # reading the declarations tells the scrubber the toy's credential
    assert scrub("auth failed for key toy-secret-123") == "auth failed for key ***"
    assert load_price_table().cost("toy/anything", Usage(1_000_000, 1_000_000)) == 3.0


def test_toy_backend_has_no_batch_api(toy_site: Path) -> None:
    from credo.errors import BackendError
    from credo.generators.batch_api import batch_api_for
    from credo.generators.registry import load_backend

    with pytest.raises(BackendError, match=r"toy/m: --batch needs a provider with a batch API"):
        batch_api_for(load_backend("toy/m"))


def test_toy_export_from_the_command_line(toy_site: Path, tmp_path: Path) -> None:
    data = corpus(tmp_path / "corpus")
    run = credo(
        "export",
        str(data),
        "--format",
        "toy",
        "--out",
        str(tmp_path / "e"),
        "--allow-unaudited",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / "e" / "toy.txt").read_text(encoding="utf-8").splitlines()
    assert lines[1] == "r1\tWE NEVER CUT THE GRASS!"


def test_without_the_plugin_the_names_are_unknown(tmp_path: Path) -> None:
    reset()
    data = corpus(tmp_path / "corpus")
    run = credo("audit", str(data), "--checks", "toy", "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert run.returncode == 2
    assert "unknown check 'toy'" in run.stderr


def test_a_broken_plugin_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    install(site, {FILTERS: {"broken": "credo_toyplugin.missing:CHECKS"}})
    monkeypatch.syspath_prepend(str(TOY))
    monkeypatch.syspath_prepend(str(site))
    reset()
    from credo.filters.registry import check_spec

    try:
        with pytest.raises(
            ConfigError, match=r"plugin 'broken' \(credo.filters, from credo-toyplugin\)"
        ):
            check_spec("broken")
    finally:
        reset()


@pytest.mark.parametrize(
    ("group", "value", "message"),
    [
        (FILTERS, "credo.filters.refusal:CHECKS", "a built-in check has that name"),
        (BACKENDS, "credo.generators.fake_backend:BACKEND", "a built-in provider has that name"),
        (EXPORTS, "credo.corpora.openai_export:EXPORTS", "a built-in format has that name"),
    ],
)
def test_a_plugin_cannot_take_a_builtin_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: str, value: str, message: str
) -> None:
    site = tmp_path / "site"
    install(site, {group: {"clash": value}})
    monkeypatch.syspath_prepend(str(site))
    reset()
    from credo.corpora.export import export_formats
    from credo.filters.registry import all_checks
    from credo.generators.registry import all_backends

    lookup = {FILTERS: all_checks, BACKENDS: all_backends, EXPORTS: export_formats}[group]
    try:
        with pytest.raises(ConfigError, match=message):
            lookup()
    finally:
        reset()


def test_contributing_shows_the_tested_plugin_in_full() -> None:
    """CONTRIBUTING.md's examples are these files, so the copyable ones are the tested ones."""
    guide = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for name in ("check.py", "backend.py", "export.py"):
        source = (TOY / "credo_toyplugin" / name).read_text(encoding="utf-8")
        assert f"```python\n{source}```" in guide, name
    assert f"```toml\n{(TOY / 'pyproject.toml').read_text(encoding='utf-8')}```" in guide
