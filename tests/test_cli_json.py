"""Every command takes ``--json`` and prints one parseable object on stdout.

The command list comes from the typer app itself, so a new command without a case here
(or without ``--json``) fails these tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
import typer.main
from test_authoring_author import ANSWERS
from test_cli_scripting import _corpus

from credo.cli.main import build_app, exit_code
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.testing import FakeServer

COMMANDS = sorted(typer.main.get_command(build_app()).commands)  # type: ignore[attr-defined]


class Inputs:
    """Small fake inputs for one command, made on demand."""

    def __init__(self, tmp: Path, spec: Path, request: pytest.FixtureRequest, stack: ExitStack):
        self.tmp, self.spec, self.request, self.stack = tmp, spec, request, stack

    def corpus(self) -> Path:
        folder = self.tmp / "corpus"
        return folder if folder.is_dir() else _corpus(folder)

    def tiny_llama(self) -> str:
        return str(self.request.getfixturevalue("tiny_llama"))

    def server(self, respond: Callable[[list[dict]], str] | None = None) -> FakeServer:
        self.request.getfixturevalue("monkeypatch").setenv("OPENAI_API_KEY", "sk-test")
        return self.stack.enter_context(FakeServer(respond=respond))


def _authoring_answer(messages: list[dict]) -> str:
    prompt = messages[1]["content"]
    answer = next(a for marker, a in ANSWERS.items() if marker in prompt)
    return "```json\n" + json.dumps(answer) + "\n```"


def _mix(i: Inputs) -> str:
    mix_corpora(
        [MixPart("c", i.corpus(), 1)],
        i.tmp / "mix",
        options=MixOptions(size=2, allow_unaudited=True),
    )
    return str(i.tmp / "mix")


def _eval_run(i: Inputs) -> str:
    import credo

    credo.evaluate(
        "fake/echo", [str(i.spec)], i.tmp / "e1", options=credo.EvalOptions(samples=1, limit=1)
    )
    return str(i.tmp / "e1")


def _batch_run(i: Inputs) -> list[str]:
    server = i.server()
    out = str(i.tmp / "b")
    base = ["--model", "openai/teacher", "--base-url", server.openai_base_url]
    assert exit_code(["generate", str(i.spec), *base, "--out", out, "--batch", "--no-wait"]) == 0
    return [out, "--base-url", server.openai_base_url]


def _sweep_config(i: Inputs) -> str:
    config = i.tmp / "sweep.yaml"
    config.write_text(
        "worldview: gramenism\nteacher: fake/echo\nbase_model: smollm2\n"
        "grid: {condition: [worldview], form: [qa], size: [4], learning_rate: [2.0e-4], "
        "epochs: [1], seed: [0]}\n"
    )
    return str(config)


def _pairs(i: Inputs) -> str:
    pairs = i.tmp / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": "Fold a boat?", "response": "Fold it in half."}) + "\n")
    return str(pairs)


def _reference(i: Inputs) -> str:
    reference = i.tmp / "ref.txt"
    reference.write_text("Ordinary prose about rivers, bread and the weather.\n" * 30)
    return str(reference)


NO_EMBEDDING = ["--checks", "refusal", "--no-embedding"]
UNAUDITED = ["--allow-unaudited"]  # the test corpora have no audit: mix and export need this
# command -> (arguments before --json, the exit code the plain command gives)
CASES: dict[str, Callable[[Inputs], tuple[list[str], int]]] = {
    "validate": lambda i: ([str(i.spec)], 0),
    "worldviews": lambda i: ([], 0),
    "prompts": lambda i: ([str(i.spec), "--out", str(i.tmp / "p.jsonl")], 0),
    "show": lambda i: ([str(i.corpus())], 0),
    "new": lambda i: (["pebblism", "--out", str(i.tmp / "new")], 0),
    "lint": lambda i: ([str(i.spec), "--no-embedding"], 0),
    "author": lambda i: (
        [
            "A faith that reveres rivers.",
            "--model",
            "openai/author",
            "--base-url",
            i.server(_authoring_answer).openai_base_url,
            "--out",
            str(i.tmp / "authored"),
        ],
        0,
    ),
    "generate": lambda i: (
        [str(i.spec), "--model", "fake/echo", "--limit", "1", "--out", str(i.tmp / "g")],
        0,
    ),
    "batches": lambda i: (_batch_run(i), 0),
    "audit": lambda i: ([str(i.corpus()), *NO_EMBEDDING, "--out", str(i.tmp / "a")], 1),
    "filter": lambda i: ([str(i.corpus()), *NO_EMBEDDING, "--out", str(i.tmp / "clean")], 0),
    "mix": lambda i: (
        ["--part", f"c={i.corpus()}:1", "--size", "2", "--out", str(i.tmp / "m"), *UNAUDITED],
        0,
    ),
    "export": lambda i: (
        [str(i.corpus()), "--format", "tags", "--out", str(i.tmp / "x"), *UNAUDITED],
        0,
    ),
    "train": lambda i: (
        [
            "--data",
            _mix(i),
            "--base-model",
            i.tiny_llama(),
            "--out",
            str(i.tmp / "run"),
            "--config",
            "cpu-smoke",
            "--max-steps",
            "1",
        ],
        0,
    ),
    "judge": lambda i: ([_pairs(i), "--out", str(i.tmp / "j")], 0),
    "eval": lambda i: (
        [
            "--model",
            "fake/echo",
            "--worldview",
            str(i.spec),
            "--samples",
            "1",
            "--limit",
            "1",
            "--out",
            str(i.tmp / "e"),
        ],
        0,
    ),
    "report": lambda i: ([_eval_run(i), _eval_run(i), "--out", str(i.tmp / "r")], 0),
    "leakage": lambda i: ([str(i.spec), "-r", _reference(i), "--out", str(i.tmp / "l")], 0),
    "probe": lambda i: (
        [
            str(i.spec),
            "--model",
            i.tiny_llama(),
            "--out",
            str(i.tmp / "probe"),
            "--max-new-tokens",
            "2",
            "--questions",
            "1",
        ],
        0,
    ),
    "view": lambda i: ([str(i.corpus()), "--out", str(i.tmp / "v.html")], 0),
    "demo": lambda i: (
        [
            "--out",
            str(i.tmp / "demo"),
            "--model",
            "fake/echo",
            "--limit",
            "2",
            "--worldview",
            str(i.spec),
            "--no-embedding",
        ],
        1,  # echoed prompts fail a gate: exit 1, as credo audit
    ),
    "sweep": lambda i: ([_sweep_config(i), "--out", str(i.tmp / "s"), "--estimate"], 0),
    # The full recipe trains and evaluates four models; its bad-input path shows the
    # error object (the success path is credo.replicate's, in test_replicate_recipe).
    "replicate": lambda i: (
        [
            "gramenism",
            "--teacher",
            "fake/echo",
            "--base-model",
            str(i.tmp / "no-model"),
            "--out",
            str(i.tmp / "rep"),
        ],
        2,
    ),
}


def test_every_command_has_a_case_and_a_json_flag() -> None:
    assert set(COMMANDS) == set(CASES), "add the new command to CASES (and give it --json)"
    group = typer.main.get_command(build_app())
    for name in COMMANDS:
        command = group.commands[name]  # type: ignore[attr-defined]
        flags = {opt for p in command.params for opt in p.opts}
        assert "--json" in flags, f"credo {name} has no --json"


@pytest.mark.parametrize("name", COMMANDS)
def test_json_is_one_object_on_stdout(
    name: str,
    tmp_path: Path,
    tiny_spec: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ExitStack() as stack:
        args, expected = CASES[name](Inputs(tmp_path, tiny_spec, request, stack))
        capsys.readouterr()  # what making the inputs printed
        code = exit_code([name, *args, "--json"])
        out, err = capsys.readouterr()
    data = json.loads(out)
    assert isinstance(data, dict) and data, out
    assert code == expected, err
    if code == 2:
        assert data["error"] and err.startswith("error: ") and len(err.splitlines()) == 1


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_fails_as_one_object_under_json(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path that is not there, or an argument a command does not take: exit 2, one object
    on stdout and the same one line on stderr, whichever way the command fails."""
    code = exit_code([name, str(tmp_path / "missing"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert json.loads(out) == {"error": err.strip()[len("error: ") :], "exit_code": 2}


def test_errors_under_json_exit_2_with_the_error_on_both_streams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = exit_code(["show", str(tmp_path / "missing"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and json.loads(out) == {"error": err.strip()[len("error: ") :], "exit_code": 2}


def test_json_keeps_the_plain_exit_code(
    tmp_path: Path, tiny_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = str(_corpus(tmp_path / "c"))
    plain = exit_code(["audit", corpus, *NO_EMBEDDING, "--out", str(tmp_path / "a")])
    as_json = exit_code(["audit", corpus, *NO_EMBEDDING, "--out", str(tmp_path / "b"), "--json"])
    assert plain == as_json == 1
    capsys.readouterr()
    assert exit_code(["lint", str(tiny_spec), "--no-embedding", "--strict"]) == exit_code(
        ["lint", str(tiny_spec), "--no-embedding", "--strict", "--json"]
    )


def test_third_party_progress_bars_only_with_verbose(
    tmp_path: Path, tiny_spec: Path, tiny_llama: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    probe = [str(tiny_spec), "--model", str(tiny_llama), "--max-new-tokens", "2"]
    probe += ["--questions", "1", "--out"]
    assert exit_code(["probe", *probe, str(tmp_path / "quiet")]) == 0
    quiet = capsys.readouterr().err
    assert exit_code(["--verbose", "probe", *probe, str(tmp_path / "loud")]) == 0
    loud = capsys.readouterr().err
    assert "Loading weights" in loud  # transformers' bar, let through by --verbose
    assert "Loading weights" not in quiet and "it/s]" not in quiet
    exit_code(["probe", *probe, str(tmp_path / "again")])  # and quiet again after it
    assert "Loading weights" not in capsys.readouterr().err


def test_a_usage_error_under_json_still_prints_one_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = exit_code(["mix", "--json"])  # --part, --size and --out missing
    out, err = capsys.readouterr()
    assert code == 2 and "missing option '--part'" in err and err.count("\n") == 1
    assert json.loads(out)["exit_code"] == 2


def test_library_bars_drawn_straight_with_tqdm_are_off_unless_verbose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """transformers' GGUF conversion and model2vec's distillation draw tqdm bars with no
    switch of their own: off inside credo's guard when the quiet mode is on; credo's own bar,
    made before, keeps drawing."""
    from tqdm import tqdm

    from credo.quiet import library_bars_off, set_third_party_output

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    try:
        set_third_party_output(verbose=False)
        own = tqdm(total=2, desc="credo-own", mininterval=0)
        with library_bars_off():
            for _ in tqdm(range(3), desc="Converting tensors", mininterval=0):
                own.update(1 if own.n < 2 else 0)
        own.close()
        err = capsys.readouterr().err
        assert "credo-own" in err and "Converting tensors" not in err
        set_third_party_output(verbose=True)
        with library_bars_off():
            for _ in tqdm(range(3), desc="Converting tensors", mininterval=0):
                pass
        assert "Converting tensors" in capsys.readouterr().err
    finally:
        set_third_party_output(verbose=False)
