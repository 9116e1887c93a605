"""Every row of the hostile catalogue: exit 2, one stderr line naming the file or field, no
traceback anywhere, and nothing under the test's folder changed (hashed before and after)."""

from __future__ import annotations

import hashlib
import traceback
from pathlib import Path

import pytest
from catalogue import ROWS

from credo.cli.main import main


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash (folders as 'dir'); the cache excluded."""
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == "home" or rel.startswith("home/"):
            continue
        if path.is_symlink():
            seen[rel] = "link:" + str(path.readlink())
        elif path.is_dir():
            seen[rel] = "dir"
        else:
            seen[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=row.pending, strict=True))
        if row.pending
        else name
        for name, row in ROWS.items()
    ],
)
def test_hostile_row(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    row = ROWS[name]
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    argv = row.setup(tmp_path)
    capsys.readouterr()  # what building the inputs printed
    before = snapshot(tmp_path)
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    except BaseException:  # an escaped exception is exactly what the suite exists to catch
        pytest.fail(f"{name}: credo {argv[0]} raised\n{traceback.format_exc()}")
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, f"{name}: exit {code}, stderr {err!r}"
    assert err.count("\n") == 1 and err.endswith("\n"), f"{name}: not one line: {err!r}"
    assert row.says in err, f"{name}: {err!r} does not name {row.says!r}"
    assert "Traceback" not in err + captured.out
    assert snapshot(tmp_path) == before, f"{name}: the folder changed"


def test_every_command_and_kind_is_covered() -> None:
    commands = {row.command for row in ROWS.values()}
    assert {"sweep", "batches", "generate", "view", "mix", "export"} <= commands
    kinds = {row.kind for row in ROWS.values()}
    assert {"corrupt", "truncated", "wrong type", "huge", "hostile path", "forged text"} <= kinds
