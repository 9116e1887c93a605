"""Two runs into one output, for every command that writes one: the second refuses with one
line naming the holder, exit 2, and changes nothing (so nothing can be written twice).

The command list is the typer app's own: a new command must be put in ``WRITERS`` (with where
its lock lives) or ``READERS`` (it writes nothing), or the first test fails. The arguments are
``test_cli_json``'s cases, each a real run on fake backends and the tiny models; the lock of a
first run is held here, as a live run's would be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from test_cli_json import CASES, COMMANDS, Inputs, _sweep_config

from credo.cli.main import exit_code
from credo.paths import credo_home
from credo.runs import LOCK_FILE, output_lock

# Commands that only read: they hold no lock because they write nothing.
READERS = {"validate", "worldviews", "show", "lint", "batches"}


def _folder(out: Path) -> tuple[Path, str]:
    """A command that writes a folder of its own locks ``.credo.lock`` inside it."""
    return out, LOCK_FILE


def _one_file(out: Path) -> tuple[Path, str]:
    """A command that writes one file (or one new folder) locks ``.NAME.credo.lock`` beside it."""
    return out.parent, f".{out.name}.credo.lock"


# command -> where a run's lock lives, from its --out
WRITERS: dict[str, Callable[[Path], tuple[Path, str]]] = {
    **dict.fromkeys(
        [
            "author",
            "generate",
            "audit",
            "filter",
            "mix",
            "export",
            "train",
            "judge",
            "eval",
            "report",
            "leakage",
            "probe",
            "demo",
            "sweep",
            "replicate",
        ],
        _folder,
    ),
    **dict.fromkeys(["prompts", "view", "new"], _one_file),
}


def _argv(name: str, i: Inputs) -> list[str]:
    args, _ = CASES[name](i)
    if name == "sweep":  # the case only estimates; a real run locks the folder
        return [_sweep_config(i), "--out", str(i.tmp / "s")]
    if name == "replicate":  # the case's model folder is missing; here a real recipe
        return ["gramenism", "--teacher", "fake/echo", "--base-model", "smollm2", "--out", str(i.tmp / "rep")]  # fmt: skip
    return args


# The variants of one command that run another writer: documents, belief evals.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "generate --kind documents": ("generate", ["--kind", "documents"]),
    "eval --belief": ("eval", ["--belief"]),
}


def _snapshot(*roots: Path) -> dict[str, str]:
    """Every file under ``roots``: the test's folder and credo's home (caches, indexes, verdict
    histories), so a refused run is seen to have written nothing anywhere."""
    return {
        str(p): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for root in roots
        for p in sorted(root.rglob("*"))
    }


def test_every_command_is_a_writer_or_a_reader() -> None:
    assert set(WRITERS) | READERS == set(COMMANDS), "put the new command in WRITERS or READERS"
    assert not set(WRITERS) & READERS


@pytest.mark.parametrize("case", [*sorted(WRITERS), *VARIANTS])
def test_a_second_run_refuses_while_the_first_holds_the_output(
    case: str,
    tmp_path: Path,
    tiny_spec: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, extra = VARIANTS.get(case, (case, []))
    with ExitStack() as stack:
        argv = [name, *_argv(name, Inputs(tmp_path, tiny_spec, request, stack)), *extra]
        out = Path(argv[argv.index("--out") + 1])
        folder, lock_name = WRITERS[name](out)
        capsys.readouterr()
        with output_lock(folder, "credo other (the first run)", lock_name=lock_name):
            before = _snapshot(tmp_path, credo_home())
            code = exit_code(argv)
            after = _snapshot(tmp_path, credo_home())
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and "another credo run is writing into this folder" in err[0], err
    assert "credo other (the first run)" in err[0]
    assert after == before
