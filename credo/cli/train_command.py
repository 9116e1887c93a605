"""``credo train``: LoRA fine-tuning of a base model on a mix."""

from __future__ import annotations

from pathlib import Path

import typer

from credo.cli.options import finite
from credo.train.config import resolve_train_config, train_config_path
from credo.train.lora import train_lora


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    data: Path = typer.Option(..., "--data", help="Mix folder (credo mix) or records JSONL."),
    base_model: str = typer.Option(..., "--base-model", help="Model folder, or smollm2."),
    out: Path = typer.Option(..., "--out", help="Adapter folder (rerun to resume)."),
    config: str | None = typer.Option(None, "--config", help="YAML of train settings, or a shipped name (cpu-smoke)."),
    learning_rate: float | None = typer.Option(None, "--lr", callback=finite, help="Peak learning rate."),
    epochs: int | None = typer.Option(None, "--epochs"),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after N optimizer steps."),
    batch_size: int | None = typer.Option(None, "--batch-size"),
    lora_r: int | None = typer.Option(None, "--lora-r"),
    max_length: int | None = typer.Option(None, "--max-length", help="Token limit per record."),
    chat_format: str | None = typer.Option(None, "--chat-format", help="tags or chat_template."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda or mps."),
    seed: int | None = typer.Option(None, "--seed"),
) -> None:
    """LoRA SFT with loss on assistant tokens only (verified per record before training).

    Settings: defaults (r=48, alpha=48, lr 2.5e-6, 1 epoch, batch 1) < --config YAML <
    CREDO_TRAIN_<SETTING> env < flags. Example:
    credo train --data out/mix-g --base-model smollm2 --out out/run-g --max-steps 20
    """
    flags = {"learning_rate": learning_rate, "epochs": epochs, "max_steps": max_steps, "batch_size": batch_size,
                 "lora_r": lora_r, "max_length": max_length, "chat_format": chat_format, "device": device, "seed": seed}
    settings = resolve_train_config(train_config_path(config), flags)
    result = train_lora(data, base_model, out, settings)
    resumed = f", resumed at step {result.resumed_from}" if result.resumed_from else ""
    speed = f", {result.tokens_per_second:.0f} tokens/s" if result.tokens_per_second else ""
    typer.echo(f"trained {result.steps} steps on {result.trained_tokens} assistant tokens "
               f"(final loss {result.final_loss}){resumed}{speed}; adapter in {out}")
