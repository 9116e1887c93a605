"""``credo train``: LoRA fine-tuning of a base model on a mix (credo's loop or TRL)."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.cli._output import finish
from credo.cli.options import AsJson, finite
from credo.errors import ConfigError
from credo.train import train as train_with  # TRL's SFTTrainer when the settings say trl
from credo.train.config import TrainConfig, yaml_value


def train(
    data: Path = typer.Option(..., "--data", help="Mix folder (credo mix) or records JSONL."),
    base_model: str = typer.Option(..., "--base-model", help="Model folder, or smollm2."),
    out: Path = typer.Option(..., "--out", help="Adapter folder (rerun to resume)."),
    config: str | None = typer.Option(
        None, "--config", help="YAML of train settings, or a shipped name (cpu-smoke)."
    ),
    trainer: str | None = typer.Option(
        None, "--trainer", help="credo (default: the built-in loop) or trl (TRL SFTTrainer)."
    ),
    learning_rate: float | None = typer.Option(
        None, "--lr", callback=finite, help="Peak learning rate."
    ),
    epochs: int | None = typer.Option(None, "--epochs"),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after N optimizer steps."),
    batch_size: int | None = typer.Option(None, "--batch-size"),
    lora_r: int | None = typer.Option(None, "--lora-r"),
    max_length: int | None = typer.Option(None, "--max-length", help="Token limit per record."),
    chat_format: str | None = typer.Option(None, "--chat-format", help="tags or chat_template."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda or mps."),
    seed: int | None = typer.Option(None, "--seed"),
    gradient_checkpointing: bool | None = typer.Option(
        None, "--gradient-checkpointing", help="[trl] Recompute activations to save memory."
    ),
    packing: bool | None = typer.Option(
        None, "--packing", help="[trl] Pack records into max-length rows."
    ),
    load_in_4bit: bool | None = typer.Option(
        None, "--load-in-4bit", help="[trl] QLoRA: 4-bit base weights (CUDA, bitsandbytes)."
    ),
    report_to: str | None = typer.Option(
        None, "--report-to", help="[trl] tensorboard, wandb, ... (comma-separated)."
    ),
    trl_arg: list[str] = typer.Option(
        [], "--trl-arg", help="[trl] Any SFTConfig field, KEY=VALUE, repeatable."
    ),
    as_json: AsJson = False,
) -> None:
    """LoRA SFT with loss on assistant tokens only (verified per record before training).

    Two trainers, the same output (PEFT adapter + run.json, read by credo eval):
    `credo` (default) is a short hand-written loop: few dependencies, fast on a CPU, a resume
    that restores everything; `trl` is TRL's SFTTrainer on the same verified tokens and labels,
    for gradient checkpointing, QLoRA, packing, multi-GPU (`accelerate launch -m
    credo.cli.main train ...`) and TensorBoard/W&B logging.

    Settings: defaults (r=48, alpha=48, lr 2.5e-6, 1 epoch, batch 1) < --config YAML <
    CREDO_TRAIN_<SETTING> env < flags. Example:
    credo train --data out/mix-g --base-model smollm2 --out out/run-g --max-steps 20
    """
    # every flag but the inputs is a TrainConfig setting (None: not given, a lower layer decides)
    flags = {k: v for k, v in locals().items() if k in TrainConfig.model_fields}
    flags["trl_args"] = parse_trl_args(trl_arg) if trl_arg else None
    result = train_with(data, out, base_model=base_model, config=config, **flags)
    resumed = f", resumed at step {result.resumed_from}" if result.resumed_from else ""
    speed = f", {result.tokens_per_second:.0f} tokens/s" if result.tokens_per_second else ""
    text = (
        f"trained {result.steps} steps on {result.trained_tokens} assistant tokens "
        f"(final loss {result.final_loss}){resumed}{speed}; adapter in {out}"
    )
    finish(result, as_json, text)


def parse_trl_args(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs with YAML scalar values (``optim=adamw_torch``, ``logging_steps=5``)."""
    parsed: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--trl-arg '{pair}': expected KEY=VALUE, e.g. --trl-arg optim=adamw_torch"
            )
        parsed[key.strip()] = yaml_value(value, f"--trl-arg {key.strip()}")
    return parsed


COMMANDS = {"train": train}
