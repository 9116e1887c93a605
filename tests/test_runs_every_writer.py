"""Two runs into one output, for every command that writes one: the second refuses with one
line naming the holder, exit 2, and changes nothing (so nothing can be written twice).

The command list is the typer app's own: a new command must be put in ``WRITERS`` (with where
its lock lives) or ``READERS`` (it writes nothing), or the first test fails. The arguments are
``test_cli_json``'s cases, each a real run on fake backends and the tiny models; the lock of a
first run is held here, as a live run's would be.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from test_cli_json import CASES, COMMANDS, Inputs, _authoring_answer, _pairs, _sweep_config

from credo.cli.main import exit_code
from credo.paths import credo_home
from credo.runs import LOCK_FILE, output_lock
from credo.testing import FakeServer

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
    if name == "train":  # preparing would fail on this model: only a lock taken first refuses
        args[args.index("--base-model") + 1] = str(i.tmp / "no-such-model")
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


# ---- no credential on disk, whatever carries it ---------------------------------------------

# userinfo percent-encoded and with a raw "@" in the password (a key in the query is refused
# by the SDKs' URL joining; test_runs_kill covers it on disk)
SECRETS = ("us%40er", "s3cr%3Aet", "s3cr:et", "p@ss", "ss-word")


def _with_creds(url: str) -> str:
    return url.replace("http://", "http://us%40er:s3cr%3Aet-p@ss-word@")


def _served(i: Inputs, name: str) -> tuple[list[str], dict[str, str], FakeServer]:
    """A run of ``name`` that reaches the fake server through a URL holding credentials: by
    --base-url where the command takes one, else by OPENAI_BASE_URL."""
    server = i.server(_authoring_answer if name == "author" else None)
    url = _with_creds(server.openai_base_url)
    spec, out = str(i.spec), str(i.tmp / "out")
    served = ["--model", "openai/teacher"]
    runs = {
        "generate": ([spec, *served, "--limit", "2", "--base-url", url, "--out", out], {}),
        "documents": (
            [spec, "--kind", "documents", *served, "--limit", "2", "--base-url", url, "--out", out],
            {},
        ),
        "generate --batch": (
            [
                spec,
                *served,
                "--limit",
                "2",
                "--batch",
                "--no-wait",
                "--base-url",
                url,
                "--out",
                out,
            ],
            {},
        ),
        "author": (
            [
                "A faith that reveres rivers.",
                "--model",
                "openai/author",
                "--base-url",
                url,
                "--out",
                out,
            ],
            {},
        ),
        "eval --belief --judge": (
            [
                *served,
                "--worldview",
                spec,
                "--samples",
                "1",
                "--limit",
                "1",
                "--belief",
                "--judge",
                "openai/judge",
                "--out",
                out,
            ],
            {"OPENAI_BASE_URL": url},
        ),
        "judge": ([_pairs(i), "--judge", "openai/judge", "--out", out], {"OPENAI_BASE_URL": url}),
    }
    return (*runs[name], server)


@pytest.mark.parametrize(
    "case",
    ["generate", "documents", "generate --batch", "author", "eval --belief --judge", "judge"],
)
def test_a_base_url_with_credentials_never_reaches_disk_or_stderr(
    case: str,
    tmp_path: Path,
    tiny_spec: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "generate" if case == "documents" else case.split()[0]
    with ExitStack() as stack:
        args, env, server = _served(Inputs(tmp_path, tiny_spec, request, stack), case)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = exit_code([name, *args])
        out, err = capsys.readouterr()
    assert code in (0, 1), err  # 1: a gate or a judge's verdict, never a crash
    assert server.requests  # the URL with credentials was the one used
    written = [
        str(path)
        for root in (tmp_path, credo_home())
        for path in root.rglob("*")
        if path.is_file() and any(s.encode() in path.read_bytes() for s in SECRETS)
    ]
    assert written == []
    assert not any(s in out + err for s in SECRETS), out + err


# ---- one atomic writer ----------------------------------------------------------------------

# A file written in place outside credo/runs.py: only these, each for a reason.
IN_PLACE_WRITES = {
    # built inside a fresh hidden folder that replace_dir/rename swaps in whole
    ("credo/authoring/scaffold.py", "path.write_text(text"),
    ("credo/leakage/index.py", '(folder / "meta.json").write_text('),
    # append-only by design: one write per line, a torn last line repaired or skipped on read
    ("credo/filters/base.py", 'self._path.open("ab")'),
    ("credo/filters/spill.py", 'self.path.open("ab")'),
    ("credo/filters/spill.py", 'self._path.open("ab")'),
    ("credo/corpora/novelty.py", 'path.open("a+b")'),
    # the temp file credo.runs.atomic_path hands out (it replaces the target when done)
    ("credo/evaluation/tiktoken_cache.py", "partial.write_bytes(data)"),
    # model caches, not outputs: a library's save_pretrained writes a folder that is renamed
    # into place whole (another process may have finished the same model first)
    ("credo/embedded.py", "partial.replace(target)"),
    ("credo/filters/minilm_onnx.py", "tmp.replace(target)"),
}
_RAW_WRITE = re.compile(
    r"os\.replace\(|\.replace\(target\)|\.write_text\(|\.write_bytes\(|"
    r"open\(.*?[\"'](?:w|wb|a|ab|a\+b|w\+|x|xb)[\"']"
)


def test_every_output_goes_through_the_one_atomic_writer() -> None:
    root = Path(__file__).parent.parent
    found = set()
    for path in sorted((root / "credo").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "credo/runs.py" or rel.startswith("credo/testing/"):  # the writer; test servers
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if _RAW_WRITE.search(line) and "atomic_path(" not in line:
                found.add(
                    (
                        rel,
                        next(
                            (w for f, w in IN_PLACE_WRITES if f == rel and w in line), line.strip()
                        ),
                    )
                )
    assert found == IN_PLACE_WRITES, (
        "write through credo.runs (atomic_write/atomic_path/JsonlAppender)"
    )
