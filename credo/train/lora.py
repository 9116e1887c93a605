"""LoRA supervised fine-tuning of a base model on a credo mix.

``train_lora`` is the whole recipe: read the mix -> load the tokenizer and check the chat
format -> encode every record and verify its loss mask (refusing before any weights load) ->
load the model and wrap it with LoRA -> a short training loop with resumable checkpoints ->
save the adapter and ``run.json``. The loop is hand-written rather than HF ``Trainer`` so that
what is optimised, and what a resume restores, is all on one screen.

The output folder is a PEFT adapter folder (``PeftModel.from_pretrained(base, out)`` opens it)
plus ``run.json``, ``trained_tokens.jsonl`` and, while a run is unfinished, ``checkpoint/``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from credo.corpora.io import (
    records_path,
    write_json,
)
from credo.corpora.outdir import check_output, output_lock
from credo.errors import ConfigError
from credo.runs import building_dir, replace_dir
from credo.train.adapter import RUN_FILE, read_checkpoint_state
from credo.train.config import TrainConfig
from credo.train.masking import IGNORE_INDEX, EncodedExample
from credo.train.outcome import TrainResult, complete_run, finished_run
from credo.train.prepare import (
    CHECKPOINT_DIR,
    LoopState,
    PreparedRun,
    build_peft_model,
    load_for_training,
    pick_device,
    plan_batches,
    prepare_run,
)


def train_lora(
    data: Path, base_model: str, out: Path, config: TrainConfig, progress: bool = True
) -> TrainResult:
    """Fine-tune ``base_model`` with LoRA on the mix at ``data``; resumable, see module doc.

    Settings with ``trainer: trl`` run the same preparation on TRL's ``SFTTrainer`` instead
    (:mod:`credo.train.trl_trainer`), so every caller honours the trainer the settings name."""
    check_output(
        out, inputs=[records_path(data)], resumable=True, manifest=RUN_FILE, offers_overwrite=False
    )  # one run per folder (its run.json), never over the mix nor into a corpus
    if config.trainer == "trl":
        from credo.train.trl_trainer import train_trl

        return train_trl(
            data, base_model, Path(out), config, progress=progress
        )  # takes the same lock first
    # The lock comes first: a second run into a held folder refuses before reading the mix or
    # loading a tokenizer. A run whose checks fail under it still leaves no new folder behind.
    with output_lock(out):
        prepared = prepare_run(data, base_model, config)  # bad input fails before weights load
        return _train(prepared, base_model, out=Path(out), config=config, progress=progress)


def _train(
    prepared: PreparedRun, base_model: str, out: Path, config: TrainConfig, progress: bool
) -> TrainResult:
    done = finished_run(out, prepared.fingerprint)
    if done is not None:
        return done
    model = build_peft_model(load_base_model(base_model, config), config)
    started = time.monotonic()
    state = fit(
        model,
        prepared.masks.examples,
        config=config,
        out=out,
        fingerprint=prepared.fingerprint,
        pad_id=_pad_id(prepared.tokenizer),
        progress=progress,
    )
    elapsed = time.monotonic() - started
    return complete_run(
        prepared,
        model,
        base_model=base_model,
        out=out,
        config=config,
        state=state,
        elapsed=elapsed,
    )


def load_base_model(base_model: str, config: TrainConfig) -> Any:
    """The base model on the chosen device: bf16 on a GPU that supports it, fp32 on CPU."""
    model = load_for_training(base_model, config, feature="credo train")
    return model.to(pick_device(config))


def fit(
    model: Any,
    examples: list[EncodedExample],
    config: TrainConfig,
    out: Path,
    fingerprint: str,
    pad_id: int,
    progress: bool = True,
) -> LoopState:
    """The training loop: AdamW on the adapters, warmup + linear decay, checkpoints to resume."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    batches = plan_batches(len(examples), config)
    total_steps = math.ceil(len(batches) / config.grad_accum)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=0.0,
    )
    scheduler = make_scheduler(optimizer, config, total_steps)
    state = LoopState(loss_curve=[])
    _load_checkpoint(
        model, optimizer, scheduler=scheduler, state=state, out=out, fingerprint=fingerprint
    )
    device = next(model.parameters()).device
    autocast = _autocast(model, device)
    model.train()
    bar = tqdm(
        total=total_steps, initial=state.step, desc="train", unit="step", disable=not progress
    )
    while state.step < total_steps:
        group = batches[state.step * config.grad_accum : (state.step + 1) * config.grad_accum]
        step_loss = 0.0
        for indices in group:
            input_ids, attention, labels = collate([examples[i] for i in indices], pad_id, device)
            with autocast:
                loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
            (loss / len(group)).backward()
            step_loss += loss.item() / len(group)
            state.tokens_seen += int(attention.sum())
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.loss_curve.append(
            {"step": state.step, "loss": round(step_loss, 5), "lr": scheduler.get_last_lr()[0]}
        )
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.4f}")
        if state.step % config.save_every == 0 and state.step < total_steps:
            save_checkpoint(
                model, optimizer, scheduler=scheduler, state=state, out=out, fingerprint=fingerprint
            )
    bar.close()
    return state


def make_scheduler(optimizer: Any, config: TrainConfig, total_steps: int) -> Any:
    import torch

    warmup = math.ceil(config.warmup_ratio * total_steps)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if config.scheduler == "constant":
            return 1.0
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def collate(examples: list[EncodedExample], pad_id: int, device: Any) -> tuple[Any, Any, Any]:
    """Right-pad a micro-batch; padding is masked out of attention and loss."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in examples]
    labels = [e.labels + [IGNORE_INDEX] * (width - len(e.labels)) for e in examples]
    attention = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in examples]

    def as_tensor(rows):
        return torch.tensor(rows, dtype=torch.long, device=device)

    return as_tensor(ids), as_tensor(attention), as_tensor(labels)


def _autocast(model: Any, device: Any) -> Any:
    import contextlib

    import torch

    if device.type == "cuda" and next(model.parameters()).dtype == torch.bfloat16:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _pad_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def save_checkpoint(
    model: Any, optimizer: Any, scheduler: Any, state: LoopState, out: Path, fingerprint: str
) -> None:
    """Adapters, optimizer, scheduler, RNG and loss curve, swapped in atomically."""
    final = out / CHECKPOINT_DIR
    with building_dir(final) as tmp:
        _write_checkpoint(
            model, optimizer, scheduler=scheduler, state=state, tmp=tmp, fingerprint=fingerprint
        )
        replace_dir(tmp, final)


def _write_checkpoint(
    model: Any, optimizer: Any, scheduler: Any, state: LoopState, tmp: Path, fingerprint: str
) -> None:
    import torch
    from peft import get_peft_model_state_dict

    torch.save(
        {
            "adapter": get_peft_model_state_dict(model),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": torch.get_rng_state(),
        },
        tmp / "state.pt",
    )
    write_json(
        {
            "fingerprint": fingerprint,
            "step": state.step,
            "tokens_seen": state.tokens_seen,
            "loss_curve": state.loss_curve,
        },
        tmp / "state.json",
    )


def _load_checkpoint(
    model: Any, optimizer: Any, scheduler: Any, state: LoopState, out: Path, fingerprint: str
) -> None:
    import torch
    from peft import set_peft_model_state_dict

    folder = out / CHECKPOINT_DIR
    if not (folder / "state.json").is_file():
        return
    info = read_checkpoint_state(folder / "state.json")
    if info.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"{folder} holds a checkpoint of a different run (other data, model or settings) "
            "- pass a new --out, or delete that folder to start over"
        )
    saved = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
    set_peft_model_state_dict(model, saved["adapter"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    state.step = state.resumed_from = int(info["step"])
    state.tokens_seen = state.resumed_tokens = int(info["tokens_seen"])
    state.loss_curve = list(info["loss_curve"])
