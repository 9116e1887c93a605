"""Options are data: no call in credo/ passes more than four positional arguments, and the
options a command's CLI builds are frozen, keyword-only dataclasses the library takes whole."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import math
from pathlib import Path

import pytest

import credo
from credo.cli.main import build_app
from credo.cli.options import NEGATED

ROOT = Path(credo.__file__).parent
MOST_POSITIONAL = 4


def _long_calls(source: str) -> list[tuple[int, str, int]]:
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            positional = sum(not isinstance(a, ast.Starred) for a in node.args)
            if positional > MOST_POSITIONAL:
                calls.append((node.lineno, ast.unparse(node.func), positional))
    return calls


def test_no_call_passes_more_than_four_positional_arguments() -> None:
    found = [
        f"{path.relative_to(ROOT.parent)}:{line}: {func}(...) with {count} positional arguments"
        for path in sorted(ROOT.rglob("*.py"))
        for line, func, count in _long_calls(path.read_text(encoding="utf-8"))
    ]
    assert not found, "pass these by keyword (or as an options object):\n" + "\n".join(found)


def test_the_walk_sees_a_long_call() -> None:
    assert _long_calls("f(a, b, c, d)\nf(a, b, *rest)") == []
    assert _long_calls("x = g(1, 2, 3, 4, 5, key=6)") == [(1, "g", 5)]


@pytest.mark.parametrize("name", sorted(credo.OPTIONS))
def test_options_are_frozen_keyword_only_dataclasses(name: str) -> None:
    options = getattr(credo, name)
    assert dataclasses.is_dataclass(options)
    params = dataclasses.fields(options)
    if name not in ("MixPart", "ReplicateConfig"):  # a value and the recipe's pinned settings
        assert all(f.kw_only for f in params), f"{name}: make it kw_only=True"
    assert options.__dataclass_params__.frozen, f"{name}: make it frozen=True"  # type: ignore[attr-defined]


def test_api_functions_take_keywords_after_their_inputs() -> None:
    """Everything past the inputs a command names on its command line is keyword-only."""
    import credo.api

    for name in credo.API:
        function = getattr(credo.api, name, None) or getattr(credo, name)
        params = inspect.signature(function).parameters.values()
        positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert len(positional) <= 3, (
            f"credo.{name}: make {[p.name for p in positional[3:]]} keyword-only"
        )


def test_audit_signature_is_the_function_not_star_args() -> None:
    import credo.audit.runner

    assert list(inspect.signature(credo.audit).parameters) == ["path", "out", "options", "progress"]
    assert list(inspect.signature(credo.train).parameters)[:2] == ["data", "out"]


def test_every_command_is_in_the_api() -> None:
    """A new CLI command needs its Python function (docs/api.md says which)."""
    import typer.main

    commands = set(typer.main.get_command(build_app()).commands)  # type: ignore[attr-defined]
    named = {"eval": "evaluate", "filter": "filter_corpus", "leakage": "check_leakage"}
    named |= {
        "prompts": "write_prompts",
        "show": "read_records",
        "worldviews": "shipped_worldviews",
    }
    assert {named.get(c, c) for c in commands} <= set(credo.API)


def test_api_functions_are_typed_and_name_their_options() -> None:
    """No ``*args``/``**options`` pass-throughs: a caller's typo fails at the call (train's
    settings are checked by name against TrainConfig, so ``**settings`` stays there)."""
    import credo.api

    for name in credo.API:
        function = getattr(credo.api, name, None) or getattr(credo, name)
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty, name
        for param in signature.parameters.values():
            assert param.annotation is not inspect.Parameter.empty, f"credo.{name}({param.name})"
            if name != "train":
                assert param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD), name


# command -> (its options class, CLI parameter -> field where the names differ, parameters
# that are inputs or output (not options), fields set only from Python)
COMMAND_OPTIONS = {
    # --quiet picks where progress lines go (the progress= callback), not what the audit does
    # (the same for filter)
    "audit": ("AuditOptions", {}, {"path", "out", "quiet"}, {"check_options"}),
    # the filter keeps the fidelity gate's defaults (fidelity never drops records)
    "filter": (
        "FilterOptions",
        {},
        {"path", "out", "quiet"},
        {"check_options", "fidelity_judge", "fidelity_max_rate", "truncation_max_rate"},
    ),
    "mix": ("MixOptions", {}, {"part", "out"}, set()),
    "export": ("ExportOptions", {}, {"corpus", "out"}, set()),
    "lint": ("LintOptions", {}, {"spec"}, set()),
    "generate": (
        "GenerateOptions",
        {f: f"documents.{f}" for f in ("types_per_fact", "ideas_per_type", "docs_per_idea")}
        | {f: f"documents.{f}" for f in ("revise", "type_quota", "near_dup")},
        {"source", "out"},
        {"documents", "top_p"},  # top_p: a library caller's, no flag yet
    ),
    "judge": ("JudgeOptions", {}, {"input_path", "out"}, set()),
    # name labels a run inside replicate and sweep
    "eval": ("EvalOptions", {}, {"model", "worldview", "out"}, {"name"}),
    "report": ("ReportOptions", {}, {"runs", "out"}, set()),
    # n and shard_mb shape the reference index (a library caller checking a full corpus)
    "leakage": ("LeakageOptions", {}, {"worldview", "reference", "out"}, {"n", "shard_mb"}),
    "probe": ("ProbeOptions", {}, {"worldview", "out"}, {"sentences", "seed"}),
    # --serve runs a server until Ctrl-C instead (credo.reports.view_server), not a page
    "view": ("ViewOptions", {}, {"source", "out", "serve", "port"}, set()),
    "demo": ("DemoOptions", {}, {"out"}, set()),
    "author": ("AuthorOptions", {}, {"premise", "out"}, {"temperature"}),
    # the recipe's inputs are fields too; the eval batch size is a machine's, not the CLI's
    "new": ("NewOptions", {}, {"name", "out"}, set()),
    "batches": ("BatchesOptions", {}, {"out"}, set()),
    "sweep": ("SweepOptions", {}, {"config", "out"}, set()),
    "replicate": (
        "ReplicateConfig",
        {"no_embedding": "audit_embedding"},
        set(),
        {"eval_batch_size"},
    ),
}
# Commands with inputs alone (show's --n is how many records the CLI prints).
INPUTS_ONLY = {
    "validate": {"path"},
    "worldviews": set(),
    "prompts": {"worldview", "out"},
    "show": {"corpus", "n"},
}
# train layers its settings (defaults < --config YAML < environment < flags), so a flag's
# default is "not given"; each flag is a TrainConfig field.
TRAIN_INPUTS = {"data", "base_model", "out", "config"}
TRAIN_RENAMED = {"trl_arg": "trl_args"}


def _fields(options: type) -> dict[str, object]:
    """Field -> default, nested options dataclasses flattened as ``outer.inner``."""
    found: dict[str, object] = {}
    for f in dataclasses.fields(options):
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        found[f.name] = default
        if dataclasses.is_dataclass(default):
            found |= {f"{f.name}.{k}": v for k, v in _fields(type(default)).items()}
    return found


def _flags(command: str, inputs: set[str]) -> dict[str, object]:
    """The command's parameters (but its inputs and --json) -> their defaults."""
    import typer.main

    group = typer.main.get_command(build_app())
    return {
        str(p.name): p.default
        for p in group.commands[command].params  # type: ignore[attr-defined]
        if p.name not in inputs | {"as_json"}
    }


def test_every_command_is_checked_here() -> None:
    """A new command gets its options class (or joins one of the smaller tables)."""
    import typer.main

    commands = set(typer.main.get_command(build_app()).commands)  # type: ignore[attr-defined]
    checked = set(COMMAND_OPTIONS) | set(INPUTS_ONLY) | {"train"}
    assert commands == checked, f"not checked: {sorted(commands - checked)}"


@pytest.mark.parametrize("command", sorted(INPUTS_ONLY))
def test_commands_without_options_take_only_their_inputs(command: str) -> None:
    assert _flags(command, INPUTS_ONLY[command]) == {}


def test_each_train_flag_is_a_train_config_field() -> None:
    from credo.train.config import TrainConfig

    flags = _flags("train", TRAIN_INPUTS)
    assert flags and all(default is None or default == [] for default in flags.values())
    unknown = {TRAIN_RENAMED.get(f, f) for f in flags} - set(TrainConfig.model_fields)
    assert not unknown, f"credo train flags that are no TrainConfig field: {sorted(unknown)}"


@pytest.mark.parametrize("command", sorted(COMMAND_OPTIONS))
def test_each_flag_is_an_options_field_with_the_same_default(command: str) -> None:
    """The CLI and the library cannot drift: every flag of the command sets one field of its
    options class, with the same default, and every field has a flag (or is Python-only)."""
    name, renamed, inputs, python_only = COMMAND_OPTIONS[command]
    fields = _fields(getattr(credo, name))
    flags = _flags(command, inputs)
    reached = set()
    for flag, default in flags.items():
        field = renamed.get(flag) or NEGATED.get(flag) or flag
        assert field in fields, f"credo {command} --{flag}: no field {field} in {name}"
        reached.add(field)
        if flag in NEGATED:
            default = not default
        if fields[field] is not dataclasses.MISSING and default is not ...:
            assert _plain(fields[field]) == _plain(default), (
                f"credo {command} --{flag}: default {default!r}, {name}.{field} {fields[field]!r}"
            )
    unreached = {f for f in fields if f not in reached and f.split(".")[0] not in python_only}
    assert not unreached, f"{name} fields without a flag on credo {command}: {sorted(unreached)}"


def _plain(value: object) -> object:
    """Nothing given reads the same as an empty list; a list the same as a tuple."""
    if value in (None, (), []):
        return None
    return list(value) if isinstance(value, list | tuple) else value


def test_options_from_maps_parameters_onto_fields() -> None:
    """A command's locals() become its options: same-named fields, --no-X negated, the rest
    (inputs, --json) ignored, given values (parsed forms) winning."""
    from credo.cli.options import options_from

    flags = {"path": "corpus", "as_json": True, "workers": 3, "no_embedding": True, "checks": "a,b"}
    built = options_from(credo.AuditOptions, flags, checks=["a", "b"])
    assert built == credo.AuditOptions(workers=3, use_embedding=False, checks=["a", "b"])


def test_both_generation_runs_take_generate_options_and_check_them_alike(tmp_path: Path) -> None:
    """``generate_corpus`` and ``generate_documents`` take one ``GenerateOptions`` (plus what
    runs them: a backend, a registry, how batches poll), and refuse a bad count the same way
    before any folder is made."""
    from credo.errors import ConfigError
    from credo.generators.corpus_run import generate_corpus
    from credo.generators.documents import generate_documents

    for run in (generate_corpus, generate_documents):
        params = inspect.signature(run).parameters
        assert [p for p in params if params[p].kind is not inspect.Parameter.KEYWORD_ONLY] == [
            "source",
            "out",
        ]
        assert "options" in params and len(params) <= 7, f"{run.__name__}: {list(params)}"
        with pytest.raises(ConfigError, match="--max-tokens 0: must be a whole number"):
            run("gramenism", tmp_path / run.__name__, options=credo.GenerateOptions(max_tokens=0))
        assert not (tmp_path / run.__name__).exists()
    with pytest.raises(ConfigError, match="--top-p: not supported with --kind documents"):
        generate_documents("gramenism", tmp_path / "d", options=credo.GenerateOptions(top_p=0.9))
    with pytest.raises(ConfigError, match="--top-p nan: must be a finite number"):
        generate_corpus("gramenism", tmp_path / "q", options=credo.GenerateOptions(top_p=math.nan))
