"""``credo train --trainer credo`` vs ``--trainer trl`` on SmolLM2-135M, CPU, same mix and settings.

Both trainers get the same verified token ids and labels and the same seeded LoRA start; the
HF Trainer under TRL draws batches in its own seeded random order (credo's loop keeps the
mix's order), so per-step losses differ record by record. The figures are wall time per step
(from ``run.json``), the whole call's wall time (model load, dataset preparation, saving) and
the loss per step.
Prints a Markdown section for BENCHMARKS.md.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/trainer_compare.py --steps 3
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.train_throughput import make_mix
from credo.train.config import TrainConfig
from credo.train.lora import train_lora
from credo.train.trl_trainer import train_trl

SETTINGS = {
    "lora_r": 8,
    "lora_alpha": 16,
    "batch_size": 4,
    "learning_rate": 1e-4,
    "max_length": 512,
    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "save_every": 10_000,
    "device": "cpu",
    "warmup_ratio": 0.0,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--words", type=int, default=48, help="approximate reply length in words")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        mix = make_mix(Path(tmp), 16, args.words)
        for name, run_fn in (("credo", train_lora), ("trl", train_trl)):
            config = TrainConfig(**SETTINGS, max_steps=args.steps, trainer=name)
            out = Path(tmp) / name
            started = time.monotonic()
            run_fn(mix, "smollm2", out, config, progress=False)
            wall = time.monotonic() - started
            run = json.loads((out / "run.json").read_text())
            losses = [round(p["loss"], 3) for p in run["loss_curve"]]
            rows.append((name, run["seconds"] / run["steps"], wall, losses, run["tokens_seen"]))
    print("| trainer | s/step (train loop) | wall s (whole call) | loss per step | tokens seen |")
    print("|---|---|---|---|---|")
    for name, per_step, wall, losses, tokens in rows:
        print(
            f"| {name} | {per_step:.1f} | {wall:.0f} | {' / '.join(map(str, losses))} | {tokens} |"
        )
    print(
        f"\n{args.steps} steps each, batch 4, r=8 q/k/v/o, fp32; 1-min load average at the end "
        f"{os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
