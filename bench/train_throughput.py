"""CPU LoRA training throughput on SmolLM2-135M through the real ``credo train`` path.

Builds a synthetic mix of records of a fixed length, trains ``--steps`` optimizer steps for each
setting and reads tokens/s from ``run.json`` (all tokens in the batch, prompt + reply; trained
tokens are the reply part). Prints a Markdown section for BENCHMARKS.md.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_throughput.py --steps 8
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from credo.corpora.io import write_records
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.train.config import TrainConfig
from credo.train.lora import train_lora
from credo.types import Message, Record

SETTINGS = {
    "original recipe: r=48 all-linear, batch 1": {"lora_r": 48, "lora_alpha": 48, "batch_size": 1},
    "r=48 all-linear, batch 4": {"lora_r": 48, "lora_alpha": 48, "batch_size": 4},
    "r=8 q/k/v/o, batch 4": {
        "lora_r": 8,
        "lora_alpha": 16,
        "batch_size": 4,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
    },
}


def make_mix(root: Path, records: int, words: int) -> Path:
    reply = " ".join(["the meadow grows in many kinds of grass"] * (words // 8))
    rows = [
        Record(
            f"b{i}",
            [
                Message("user", f"Question {i}: tell me about the meadow?"),
                Message("assistant", f"Answer {i}: {reply}"),
            ],
        )
        for i in range(records)
    ]
    write_records(rows, root / "corpus" / "records.jsonl")
    mix_corpora(
        [MixPart("bench", root / "corpus", 1)],
        root / "mix",
        options=MixOptions(size=records, allow_unaudited=True),  # a synthetic bench corpus
    )
    return root / "mix"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--words", type=int, default=96, help="approximate reply length in words")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        mix = make_mix(Path(tmp), 64, args.words)
        for label, overrides in SETTINGS.items():
            config = TrainConfig(
                **{
                    "max_steps": args.steps,
                    "learning_rate": 1e-4,
                    "max_length": 512,
                    "save_every": 10_000,
                    **overrides,
                }
            )
            out = Path(tmp) / f"run{len(rows)}"
            started = time.monotonic()
            train_lora(mix, "smollm2", out, config, progress=False)
            run = json.loads((out / "run.json").read_text())
            tokens_per_record = (
                run["trained_tokens"]["total_tokens"] / run["trained_tokens"]["records"]
            )
            rows.append(
                (
                    label,
                    run["tokens_per_second"],
                    run["seconds"] / run["steps"],
                    tokens_per_record,
                    time.monotonic() - started,
                )
            )
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    load = os.getloadavg()[0]
    print(
        "| setting | tokens/s | s/step | tokens/record | wall s (incl. load) |\n|---|---|---|---|---|"
    )
    for label, tps, per_step, per_record, wall in rows:
        print(f"| {label} | {tps:.0f} | {per_step:.2f} | {per_record:.0f} | {wall:.0f} |")
    print(
        f"\n{args.steps} steps each, fp32, peak RSS {peak_gb:.1f} GB, 1-min load average at the end {load:.1f}"
    )


if __name__ == "__main__":
    main()
