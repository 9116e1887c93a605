"""What both trainers share: the checks before any weights load (:func:`prepare_run`), the
device and LoRA set-up, the batch plan, and the run folder's record of a finished run.

:mod:`credo.train.lora` (credo's own loop) and :mod:`credo.train.trl_trainer` (TRL's
``SFTTrainer``) both build on it, so neither imports the other's internals.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo.corpora.formats import TRAINING_FORMATS, ChatFormat
from credo.corpora.io import (
    RECORDS_FILE,
    read_manifest,
    read_records,
    records_path,
    write_text,
)
from credo.corpora.provenance import provenance
from credo.embedded import resolve_model_path
from credo.errors import ConfigError, CorpusError, missing_dependency
from credo.hashing import content_hash, file_hash
from credo.models import load_tokenizer
from credo.train.adapter import RUN_FILE, read_train_file
from credo.train.config import TrainConfig
from credo.train.masking import MaskReport, encode_corpus
from credo.types import Record

CHECKPOINT_DIR = "checkpoint"


@dataclass(frozen=True)
class PreparedRun:
    """Everything checked before the model loads: data, format, masks, identity."""

    records: list[Record]
    manifest: dict[str, Any]
    data_hash: str
    chat_format: ChatFormat
    tokenizer: Any
    masks: MaskReport
    fingerprint: str  # what a checkpoint must match to be resumed


@dataclass(frozen=True)
class TrainResult:
    out: Path
    steps: int
    final_loss: float | None
    trained_tokens: int
    resumed_from: int  # optimizer step the run resumed at (0 = fresh start)
    tokens_per_second: float | None


def prepare_run(data: Path, base_model: str, config: TrainConfig) -> PreparedRun:
    """All the cheap checks, in order, so bad input fails before any weights load."""
    data_file = records_path(data)
    records = list(read_records(data_file))
    manifest = read_manifest(data) if Path(data).is_dir() else {}
    format_name = choose_chat_format(config, manifest, data)
    tokenizer = load_tokenizer(base_model)
    chat_format = ChatFormat(format_name, tokenizer)
    _check_template_matches(manifest, chat_format, base_model, data)
    _refuse_forged_turns(records, tokenizer, data_file)
    masks = encode_corpus(records, chat_format, tokenizer, config.max_length)
    data_hash = file_hash(str(data_file))
    identity = {
        "data_hash": data_hash,
        "base_model": base_model,
        "chat_format": format_name,
        "config": config.model_dump(exclude={"save_every", "device", "report_to"}),
    }
    return PreparedRun(
        records,
        manifest,
        data_hash=data_hash,
        chat_format=chat_format,
        tokenizer=tokenizer,
        masks=masks,
        fingerprint=content_hash(identity),
    )


def _refuse_forged_turns(records: list[Record], tokenizer: Any, data_file: Path) -> None:
    """A turn marker inside a message would train a forged turn (with a chat tokenizer, as real
    special tokens inside the loss span); credo mix refuses or defuses them, so stop here too."""
    from credo.markers import forged_turns, special_tokens

    first = next(forged_turns(records, special_tokens(tokenizer)), None)
    if first is not None:
        raise CorpusError(
            f"{data_file}: record '{first.record_id}' carries the turn marker {first.markers[0]!r} "
            f"in its {first.role} message - remake the mix (credo mix refuses such records, or "
            "defuses them with --neutralise-markers)"
        )


def choose_chat_format(config: TrainConfig, manifest: dict[str, Any], data: Path) -> str:
    """The format the mix was made in wins; openai/prompt_completion/hf_dataset mixes default to tags."""
    mix_format = manifest.get("format")
    if mix_format is not None and mix_format not in (
        *TRAINING_FORMATS,
        "openai",
        "prompt_completion",
        "hf_dataset",
    ):
        raise ConfigError(
            f"{data}/manifest.json: unknown format '{mix_format}' - remake the mix with credo mix"
        )
    if config.chat_format and mix_format in TRAINING_FORMATS and config.chat_format != mix_format:
        raise ConfigError(
            f"{data} was mixed in format '{mix_format}' but chat_format is '{config.chat_format}' "
            f"- drop --chat-format or remake the mix with --format {config.chat_format}"
        )
    if config.chat_format:
        return config.chat_format
    return mix_format if mix_format in TRAINING_FORMATS else "tags"


def _check_template_matches(
    manifest: dict[str, Any], chat_format: ChatFormat, base_model: str, data: Path
) -> None:
    """A chat_template mix rendered with another model's template would train a different text."""
    mixed_with = (manifest.get("tokenizer") or {}).get("chat_template_hash")
    if chat_format.name != "chat_template" or not mixed_with:
        return
    if content_hash(chat_format.tokenizer.chat_template) != mixed_with:
        raise ConfigError(
            f"{data} was formatted with the chat template of '{manifest['tokenizer']['name']}', "
            f"which differs from the template of '{base_model}' - remake the mix with "
            f"--tokenizer {base_model}, or use --format tags"
        )


def pick_device(config: TrainConfig) -> str:
    import torch

    if config.device != "auto":
        return config.device
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def pick_dtype(config: TrainConfig, device: str) -> str:
    import torch

    if config.dtype != "auto":
        return config.dtype
    return "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"


def build_peft_model(model: Any, config: TrainConfig) -> Any:
    """Wrap ``model`` with LoRA adapters; only the adapters are trainable."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise missing_dependency("peft", "credo train") from None
    import torch

    torch.manual_seed(config.seed)  # LoRA A matrices start random: seed them so reruns match
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
        bias="none",
    )
    return get_peft_model(model, lora)


@dataclass
class LoopState:
    step: int = 0
    resumed_from: int = 0
    tokens_seen: int = 0
    resumed_tokens: int = 0
    loss_curve: list[dict[str, float]] = field(default_factory=list)


def plan_batches(count: int, config: TrainConfig) -> list[list[int]]:
    """Micro-batches of example indices for every epoch; the mix is already shuffled, so epoch
    0 keeps its order and later epochs reshuffle with the seed (same plan on every resume)."""
    order: list[int] = []
    for epoch in range(config.epochs):
        indices = list(range(count))
        if epoch:
            random.Random(config.seed + epoch).shuffle(indices)
        order += indices
    batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    if config.max_steps is not None:
        batches = batches[: config.max_steps * config.grad_accum]
    return batches


def finished_run(out: Path, fingerprint: str) -> TrainResult | None:
    """A finished run with the same fingerprint is not trained twice."""
    path = out / RUN_FILE
    if not path.is_file():
        return None
    run = read_train_file(path)
    missing = [key for key in ("steps", "trained_tokens") if run.get(key) is None]
    if missing:
        raise ConfigError(
            f"{path}: missing key '{missing[0]}' - retrain into a new --out, or restore the file"
        )
    if run.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"{out} already holds a finished run of other data, model or settings - pass a new --out"
        )
    curve = run.get("loss_curve") or []
    return TrainResult(
        out,
        int(run["steps"]),
        final_loss=curve[-1]["loss"] if curve else None,
        trained_tokens=int(run["trained_tokens"]["trained_tokens"]),
        resumed_from=int(run["steps"]),
        tokens_per_second=run.get("tokens_per_second"),
    )


def write_token_counts(masks: MaskReport, out: Path) -> None:
    write_text(
        "".join(
            json.dumps(
                {
                    "id": example.record_id,
                    "tokens": len(example.input_ids),
                    "trained": example.trained_tokens,
                }
            )
            + "\n"
            for example in masks.examples
        ),
        out / "trained_tokens.jsonl",
    )


def run_manifest(
    prepared: PreparedRun,
    base_model: str,
    config: TrainConfig,
    state: LoopState,
    elapsed: float,
    tokens_per_second: float | None,
) -> dict[str, Any]:
    device = pick_device(config)
    return {
        "kind": "lora_run",
        "status": "complete",
        "trainer": config.trainer,
        "fingerprint": prepared.fingerprint,
        "data": {"records_hash": prepared.data_hash, "mix_manifest": prepared.manifest or None},
        "base_model": base_model,
        "base_model_path": resolve_model_path(base_model),
        "chat_format": prepared.chat_format.name,
        "config": config.model_dump(),
        "device": device,
        "dtype": pick_dtype(config, device),
        "steps": state.step,
        "resumed_from": state.resumed_from,
        "trained_tokens": prepared.masks.summary(),
        "tokens_seen": state.tokens_seen,
        "seconds": round(elapsed, 2),
        "tokens_per_second": round(tokens_per_second, 2) if tokens_per_second else None,
        "loss_curve": state.loss_curve,
        "records_file": RECORDS_FILE,
        "provenance": provenance(),
    }
