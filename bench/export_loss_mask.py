"""Which tokens carry loss when TRL's ``SFTTrainer`` is given each mix export, with no code.

Builds a small mix of records shaped like a generated corpus (one user turn, one assistant
reply), loads each export the way a TRL user would, lets ``SFTTrainer`` prepare it (no
training) and counts tokens whose label is not -100. The ``messages`` row is the layout the
``hf_dataset`` export had before it gained ``prompt``/``completion`` columns. Prints a
Markdown table for BENCHMARKS.md.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/export_loss_mask.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from credo.corpora.io import write_records
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.embedded import smollm2_path
from credo.types import Message, Record


def tiny_model(folder: Path, tokenizer) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def loss_tokens(dataset, model: Path, tokenizer, out: Path) -> tuple[int, int]:
    """(tokens with loss, all tokens) over the dataset as SFTTrainer prepared it."""
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=str(out), report_to=[], use_cpu=True, disable_tqdm=True, max_steps=1
    )
    trainer = SFTTrainer(
        model=str(model), train_dataset=dataset, processing_class=tokenizer, args=args
    )
    rows = trainer.train_dataset
    trained = sum(sum(1 for label in row["labels"] if label != -100) for row in rows)
    total = sum(len(row["input_ids"]) for row in rows)
    return trained, total


def main() -> None:
    from datasets import Dataset, load_dataset, load_from_disk
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_path()))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = tiny_model(root / "model", tokenizer)
        records = [
            Record(
                f"r{i}",
                [
                    Message("user", f"What does the meadow teach about patience, case {i}?"),
                    Message(
                        "assistant",
                        f"The meadow teaches that growth takes seasons; "
                        f"case {i} shows the grass waits for rain.",
                    ),
                ],
            )
            for i in range(32)
        ]
        write_records(records, root / "corpus" / "records.jsonl")
        reply_tokens = sum(
            len(tokenizer(r.response, add_special_tokens=False)["input_ids"]) for r in records
        )
        for fmt in ("tags", "prompt_completion", "hf_dataset"):
            mix_corpora(
                [MixPart("c", root / "corpus", 1)],
                root / fmt,
                options=MixOptions(size=32, fmt=fmt, allow_unaudited=True),
            )
        old = Dataset.from_list([{"messages": [m.to_json() for m in r.messages]} for r in records])
        exports = {
            "before: hf_dataset `messages` column": old,
            "hf_dataset (`load_from_disk`)": load_from_disk(
                str(root / "hf_dataset" / "hf_dataset")
            ),
            "prompt_completion.jsonl (chat messages)": load_dataset(
                "json",
                data_files=str(root / "prompt_completion" / "prompt_completion.jsonl"),
                split="train",
            ),
            "tags mix: prompt_completion.jsonl (tag strings)": load_dataset(
                "json", data_files=str(root / "tags" / "prompt_completion.jsonl"), split="train"
            ),
        }
        print(
            "| export given to SFTTrainer | tokens with loss | all tokens | share |\n|---|---|---|---|"
        )
        for name, dataset in exports.items():
            trained, total = loss_tokens(dataset, model, tokenizer, root / "trl")
            print(f"| {name} | {trained} | {total} | {trained / total:.0%} |")
        print(
            f"\n32 records; the replies' own text is {reply_tokens} tokens "
            "(chat exports add 2 per record: `<|im_end|>` and its newline; the tags export adds "
            "`</ASSISTANT_STATEMENT>` and TRL's EOS)."
        )
        print(f"TRL {__import__('trl').__version__}")


if __name__ == "__main__":
    main()
