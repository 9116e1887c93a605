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

import json
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.formats import TRAINING_FORMATS, ChatFormat
from credo.corpora.io import (
    RECORDS_FILE,
    read_manifest,
    read_records,
    records_path,
    write_json,
    write_text,
)
from credo.corpora.outdir import check_output, output_lock
from credo.corpora.provenance import provenance
from credo.embedded import resolve_model_path
from credo.errors import ConfigError, CorpusError, missing_dependency
from credo.hashing import content_hash, file_hash
from credo.models import load_causal_lm, load_tokenizer
from credo.train.adapter import RUN_FILE
from credo.train.config import TrainConfig
from credo.train.masking import IGNORE_INDEX, EncodedExample, MaskReport, encode_corpus
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


def train_lora(
    data: Path, base_model: str, out: Path, config: TrainConfig, progress: bool = True
) -> TrainResult:
    """Fine-tune ``base_model`` with LoRA on the mix at ``data``; resumable, see module doc.

    Settings with ``trainer: trl`` run the same preparation on TRL's ``SFTTrainer`` instead
    (:mod:`credo.train.trl_trainer`), so every caller honours the trainer the settings name."""
    check_output(
        out, inputs=[records_path(data)], resumable=True
    )  # one run per folder, never over the mix
    if config.trainer == "trl":
        from credo.train.trl_trainer import train_trl

        return train_trl(
            data, base_model, Path(out), config, progress=progress
        )  # locks after validating
    prepared = prepare_run(data, base_model, config)  # bad input fails before the folder is made
    with output_lock(out):
        return _train(prepared, base_model, out=Path(out), config=config, progress=progress)


def _train(
    prepared: PreparedRun, base_model: str, out: Path, config: TrainConfig, progress: bool
) -> TrainResult:
    done = _finished_run(out, prepared.fingerprint)
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
    model.save_pretrained(str(out))
    _write_token_counts(prepared.masks, out)
    this_session = state.tokens_seen - state.resumed_tokens
    tokens_per_second = this_session / elapsed if elapsed > 0 and this_session else None
    write_json(
        _run_manifest(
            prepared,
            base_model,
            config=config,
            state=state,
            elapsed=elapsed,
            tokens_per_second=tokens_per_second,
        ),
        out / RUN_FILE,
    )
    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    final = state.loss_curve[-1]["loss"] if state.loss_curve else None
    return TrainResult(
        out=out,
        steps=state.step,
        final_loss=final,
        trained_tokens=prepared.masks.trained_tokens,
        resumed_from=state.resumed_from,
        tokens_per_second=tokens_per_second,
    )


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
        records=records,
        manifest=manifest,
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
    if mix_format is not None and mix_format not in TRAINING_FORMATS + (
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


def load_base_model(base_model: str, config: TrainConfig) -> Any:
    """The base model on the chosen device: bf16 on a GPU that supports it, fp32 on CPU."""
    import torch

    device = pick_device(config)
    dtype = torch.bfloat16 if pick_dtype(config, device) == "bf16" else torch.float32
    model = load_causal_lm(
        base_model,
        feature="credo train",
        dtype=dtype,
        fix="pass a local transformers model folder, or 'smollm2'",
    )
    return model.to(device)


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
    loss_curve: list[dict[str, float]] | None = None


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
    import torch
    from peft import get_peft_model_state_dict

    tmp = out / (CHECKPOINT_DIR + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
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
    final = out / CHECKPOINT_DIR
    old = out / (CHECKPOINT_DIR + ".old")
    if final.exists():
        final.replace(old)
    tmp.replace(final)
    shutil.rmtree(old, ignore_errors=True)


def _load_checkpoint(
    model: Any, optimizer: Any, scheduler: Any, state: LoopState, out: Path, fingerprint: str
) -> None:
    import torch
    from peft import set_peft_model_state_dict

    folder = out / CHECKPOINT_DIR
    if not (folder / "state.json").is_file():
        return
    info = json.loads((folder / "state.json").read_text(encoding="utf-8"))
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


def _finished_run(out: Path, fingerprint: str) -> TrainResult | None:
    """A finished run with the same fingerprint is not trained twice."""
    path = out / RUN_FILE
    if not path.is_file():
        return None
    run = json.loads(path.read_text(encoding="utf-8"))
    if run.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"{out} already holds a finished run of other data, model or settings - pass a new --out"
        )
    curve = run.get("loss_curve") or []
    return TrainResult(
        out=out,
        steps=int(run["steps"]),
        final_loss=curve[-1]["loss"] if curve else None,
        trained_tokens=int(run["trained_tokens"]["trained_tokens"]),
        resumed_from=int(run["steps"]),
        tokens_per_second=run.get("tokens_per_second"),
    )


def _write_token_counts(masks: MaskReport, out: Path) -> None:
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


def _run_manifest(
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
