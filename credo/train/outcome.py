"""A run's outcome: the adapter, ``trained_tokens.jsonl`` and ``run.json`` a finished run
leaves (:func:`complete_run`), read back so a finished run is never trained twice."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.io import RECORDS_FILE, write_text
from credo.corpora.provenance import provenance
from credo.embedded import resolve_model_path
from credo.errors import ConfigError
from credo.runs import write_json_atomic
from credo.train.adapter import RUN_FILE, read_train_file
from credo.train.config import TrainConfig
from credo.train.masking import MaskReport
from credo.train.prepare import CHECKPOINT_DIR, LoopState, PreparedRun, pick_device, pick_dtype


@dataclass(frozen=True)
class TrainResult:
    out: Path
    steps: int
    final_loss: float | None
    trained_tokens: int
    resumed_from: int  # optimizer step the run resumed at (0 = fresh start)
    tokens_per_second: float | None


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


def complete_run(
    prepared: PreparedRun,
    model: Any,
    *,
    base_model: str,
    out: Path,
    config: TrainConfig,
    state: LoopState,
    elapsed: float,
    write: bool = True,
) -> TrainResult:
    """Save the adapter, ``trained_tokens.jsonl`` and ``run.json``, drop the checkpoints, and
    return the result (``write=False``: only the result, for a process that is not the writer)."""
    this_session = state.tokens_seen - state.resumed_tokens
    tokens_per_second = this_session / elapsed if elapsed > 0 and this_session else None
    if write:
        model.save_pretrained(str(out))
        write_token_counts(prepared.masks, out)
        manifest = run_manifest(
            prepared,
            base_model,
            config=config,
            state=state,
            elapsed=elapsed,
            tokens_per_second=tokens_per_second,
        )
        write_json_atomic(out / RUN_FILE, manifest)  # a --trl-arg token never lands on disk
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
