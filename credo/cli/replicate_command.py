"""``credo replicate``: the whole belief -> behaviour experiment as one resumable recipe."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from credo import defaults
from credo.cli._output import finish, progress_printer
from credo.cli.options import (
    AsJson,
    Concurrency,
    MaxNewTokens,
    NoEmbedding,
    Samples,
    Seed,
    options_from,
)
from credo.recipes.replicate import GateAction, ReplicateConfig, replicate


def replicate_command(
    worldview: str = typer.Argument(..., help="gramenism or catholicism."),
    teacher: str = typer.Option(..., "--teacher", help="PROVIDER/MODEL that writes the corpora."),
    base_model: str = typer.Option(..., "--base-model", help="Base model folder, or smollm2."),
    out: Path = typer.Option(
        ..., "--out", help="Recipe folder (rerun the same command to resume)."
    ),
    size: int = typer.Option(defaults.REPLICATE_SIZE, "--size", help="Records per training mix."),
    samples: Samples = defaults.EVAL_SAMPLES,
    max_new_tokens: MaxNewTokens = defaults.REPLICATE_MAX_NEW_TOKENS,
    teacher_max_tokens: int = typer.Option(defaults.TEACHER_MAX_TOKENS, "--teacher-max-tokens"),
    judge: str | None = typer.Option(
        None, "--judge", help="LLM judge PROVIDER/MODEL (offline judge always runs)."
    ),
    train_config: str | None = typer.Option(
        None, "--train-config", help="YAML or shipped name (cpu-smoke)."
    ),
    on_gate_fail: str = typer.Option(
        "stop", "--on-gate-fail", help="stop, or filter the flagged records."
    ),
    no_embedding: NoEmbedding = False,
    concurrency: Concurrency = None,
    seed: Seed = 0,
    eval_limit: int | None = typer.Option(
        None,
        "--eval-limit",
        help="Violation requests per worldview to evaluate (smoke runs; default all).",
    ),
    as_json: AsJson = False,
) -> None:
    """Generate, audit, mix (baseline / worldview / no refusal data), train, evaluate, report.

    Example (plumbing only, a few minutes on a CPU): credo replicate gramenism
    --teacher local/smollm2 --base-model smollm2 --out out/rep --size 12 --samples 1
    --max-new-tokens 16 --teacher-max-tokens 48 --train-config cpu-smoke --on-gate-fail filter
    """
    # replicate() refuses an on_gate_fail other than stop or filter
    gate = cast(GateAction, on_gate_fail)
    config = options_from(
        ReplicateConfig, locals(), audit_embedding=not no_embedding, on_gate_fail=gate
    )
    result = replicate(config, log=progress_printer(as_json))
    text = f"ran {len(result.ran)} stages, skipped {len(result.skipped)}; report: {result.report}/report.md"
    finish(result, as_json, text)


COMMANDS = {"replicate": replicate_command}
