"""``credo train --trainer trl``: the same run on TRL's ``SFTTrainer`` with PEFT.

credo still prepares the run (:func:`credo.train.lora.prepare_run`): every record is encoded
and its loss mask verified before any weights load. TRL then receives those very token ids
and labels (a pre-tokenised dataset, which it trains as given), so the verified mask is the
one trained; what TRL adds is the standard stack: gradient checkpointing, QLoRA (4-bit base
weights), packing, multi-GPU with ``accelerate launch``, TensorBoard/W&B logging, and any
other ``SFTConfig`` field through ``trl_args``.

The output folder has the layout ``credo train`` always writes (PEFT adapter, ``run.json``,
``trained_tokens.jsonl``), so ``credo eval`` reads either trainer's runs alike. TRL's own
checkpoints live in ``checkpoint/`` until the run finishes; a rerun resumes from the latest.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from credo.corpora.io import write_json
from credo.corpora.outdir import output_lock
from credo.errors import ConfigError, DependencyError, missing_dependency
from credo.schema import read_json
from credo.train.config import TrainConfig
from credo.train.outcome import TrainResult, complete_run, finished_run
from credo.train.prepare import (
    CHECKPOINT_DIR,
    LoopState,
    build_peft_model,
    load_for_training,
    pick_device,
    pick_dtype,
    plan_batches,
    prepare_run,
    torch_dtype,
)

FINGERPRINT_FILE = "fingerprint.json"


def train_trl(
    data: Path, base_model: str, out: Path, config: TrainConfig, progress: bool = True
) -> TrainResult:
    """Fine-tune ``base_model`` with LoRA through TRL on the mix at ``data``; resumable."""
    try:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer
    except ImportError:
        raise missing_dependency("trl", "credo train --trainer trl", extra="trl") from None
    # The lock first: a second run into a held folder refuses before the mix or tokenizer is
    # read. A bad setting raises under it, and the lock removes the folder it made.
    with output_lock(out):
        prepared = prepare_run(data, base_model, config)
        done = finished_run(out, prepared.fingerprint)
        if done is not None:
            return done
        checkpoints = out / CHECKPOINT_DIR
        dataset = Dataset.from_list(
            [{"input_ids": e.input_ids, "labels": e.labels} for e in prepared.masks.examples]
        )
        total_steps = math.ceil(len(plan_batches(len(dataset), config)) / config.grad_accum)
        try:  # before the weights load: a mistyped trl_args field fails fast
            args = SFTConfig(**sft_arguments(config, checkpoints, total_steps, progress))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"trl_args: {str(exc).splitlines()[0][:200]} - pass fields of trl.SFTConfig"
            ) from None
        resume_step = _claim_checkpoints(checkpoints, prepared.fingerprint)
        model = build_peft_model(_load_model(base_model, config), config)
        trainer = SFTTrainer(
            model=model, args=args, train_dataset=dataset, processing_class=prepared.tokenizer
        )
        if not progress:  # without a progress bar the Trainer prints every log line instead
            from transformers import PrinterCallback

            trainer.remove_callback(PrinterCallback)
        started = time.monotonic()
        trainer.train(resume_from_checkpoint=bool(resume_step))
        elapsed = time.monotonic() - started
        state = _loop_state(trainer.state.log_history, trainer.state.global_step, resume_step)
        return complete_run(
            prepared,
            trainer.model,  # a PEFT model (transformers types it as a bare Module)
            base_model=base_model,
            out=out,
            config=config,
            state=state,
            elapsed=elapsed,
            write=trainer.is_world_process_zero(),  # one writer under accelerate launch
        )


def sft_arguments(
    config: TrainConfig, checkpoints: Path, total_steps: int, progress: bool
) -> dict[str, Any]:
    """credo's settings as ``SFTConfig`` fields; ``trl_args`` passes any other field through."""
    device = pick_device(config)
    arguments: dict[str, Any] = {
        "output_dir": str(checkpoints),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps if config.max_steps is not None else -1,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": "linear" if config.scheduler == "linear" else "constant_with_warmup",
        "warmup_steps": math.ceil(config.warmup_ratio * total_steps),
        "weight_decay": 0.0,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "max_grad_norm": config.max_grad_norm,
        "max_length": config.max_length,
        "seed": config.seed,
        "save_steps": config.save_every,
        "logging_steps": 1,
        "report_to": config.report_to,
        _checkpointing_field(): config.gradient_checkpointing,  # TRL's default is on; credo's off
        "packing": config.packing,
        "bf16": pick_dtype(config, device) == "bf16",
        "use_cpu": device == "cpu",
        "disable_tqdm": not progress,
    }
    clash = sorted(set(config.trl_args) & {"output_dir", "max_length", "packing", "report_to"})
    if clash:
        raise ConfigError(
            f"trl_args sets {', '.join(clash)}, which credo's own settings control "
            "- use --out, --max-length, --packing or --report-to instead"
        )
    arguments.update(config.trl_args)
    return arguments


def _checkpointing_field() -> str:
    """transformers 5 renamed ``gradient_checkpointing`` (the old name still works, with a warning)."""
    import dataclasses

    from trl import SFTConfig

    names = {f.name for f in dataclasses.fields(SFTConfig)}
    return (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )


def _load_model(base_model: str, config: TrainConfig) -> Any:
    """The base model, left on the CPU: the Trainer places it (one GPU per process under
    ``accelerate launch``). With ``load_in_4bit`` it is quantised for QLoRA."""
    device = pick_device(config)
    extra = _four_bit(device, torch_dtype(config, device)) if config.load_in_4bit else {}
    model = load_for_training(base_model, config, feature="credo train --trainer trl", **extra)
    if config.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing
        )
    return model


def _four_bit(device: str, dtype: Any) -> dict[str, Any]:
    if device != "cuda":
        raise ConfigError(
            "--load-in-4bit (QLoRA) needs a CUDA GPU - drop it, or run on a GPU machine"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise DependencyError(
            "--load-in-4bit needs bitsandbytes - install it with `pip install bitsandbytes`"
        ) from None
    from transformers import BitsAndBytesConfig

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=dtype,
        bnb_4bit_use_double_quant=True,
    )
    return {
        "quantization_config": quantization,
        "device_map": {"": int(os.environ.get("LOCAL_RANK", 0))},
    }


def _claim_checkpoints(folder: Path, fingerprint: str) -> int:
    """Mark the checkpoint folder with this run's fingerprint; the step to resume at (0: none)."""
    marker = folder / FINGERPRINT_FILE
    if marker.is_file():
        recover = f"delete {folder} to train from the start"
        saved = read_json(marker, recover, error=ConfigError)
        if not isinstance(saved, dict) or not isinstance(saved.get("fingerprint"), str):
            raise ConfigError(f"{marker}: fingerprint: not a run's fingerprint - {recover}")
        if saved["fingerprint"] != fingerprint:
            raise ConfigError(
                f"{folder} holds a checkpoint of a different run (other data, model or settings) "
                "- pass a new --out, or delete that folder to start over"
            )
    elif (folder / "state.json").is_file():
        raise ConfigError(
            f"{folder} holds a checkpoint of credo's own trainer - rerun with --trainer credo, "
            "or delete that folder to start over"
        )
    if int(os.environ.get("RANK", "0")) == 0:  # under accelerate launch, one process writes it
        folder.mkdir(parents=True, exist_ok=True)
        write_json({"fingerprint": fingerprint}, marker)
    steps = [
        int(p.name.rpartition("-")[2])
        for p in folder.glob("checkpoint-*")
        if p.name.rpartition("-")[2].isdigit()
    ]
    return max(steps, default=0)


def _loop_state(log_history: list[dict[str, Any]], step: int, resumed_from: int) -> LoopState:
    """TRL's log as the loss curve and token counts ``run.json`` records for either trainer."""
    curve = [
        {
            "step": int(e["step"]),
            "loss": round(float(e["loss"]), 5),
            "lr": float(e.get("learning_rate", 0.0)),
        }
        for e in log_history
        if "loss" in e and "step" in e
    ]
    counted = [
        (int(e["step"]), int(e["num_tokens"]))
        for e in log_history
        if "num_tokens" in e and "step" in e
    ]
    tokens = max((n for _, n in counted), default=0)
    before = max((n for s, n in counted if s <= resumed_from), default=0)
    return LoopState(
        step=step,
        resumed_from=resumed_from,
        tokens_seen=tokens,
        resumed_tokens=before,
        loss_curve=curve,
    )
