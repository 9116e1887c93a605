"""The mix exports train on the assistant tokens only in TRL's SFTTrainer, with no code.

Each export is loaded the way a TRL user would load it, trained for two steps, and the loss
mask TRL's collator builds (labels != -100) is compared with the record's assistant turn.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.corpora.formats import ChatFormat
from credo.corpora.io import write_records
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.train.masking import IGNORE_INDEX, encode_record
from credo.types import Message, Record

pytest.importorskip("trl")

REPLIES = {f"r{i}": f"Yes. The meadow teaches patience, lesson {i}." for i in range(4)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    records = [
        Record(
            rid,
            [Message("user", f"Is the grass sacred? Question {rid}."), Message("assistant", reply)],
            {"persona_id": "elder", "slots": {"n": rid}},
        )
        for rid, reply in REPLIES.items()
    ]
    write_records(records, folder / "records.jsonl")
    return folder


def _load(fmt: str, mix: Path):
    from datasets import load_dataset, load_from_disk

    if fmt == "hf_dataset":
        return load_from_disk(str(mix / "hf_dataset"))
    return load_dataset("json", data_files=str(mix / "prompt_completion.jsonl"), split="train")


def _trained_rows(fmt: str, corpus: Path, tiny_llama: Path, tmp_path: Path):
    """Two SFTTrainer steps on the export; the (ids, trained ids) per row from the collator."""
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    mix_corpora(
        [MixPart("c", corpus, 1)],
        tmp_path / "mix",
        options=MixOptions(size=4, seed=0, fmt=fmt, allow_unaudited=True),
    )
    dataset = _load(fmt, tmp_path / "mix")
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_llama))
    args = SFTConfig(
        output_dir=str(tmp_path / "trl"),
        max_steps=2,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = SFTTrainer(
        model=str(tiny_llama), train_dataset=dataset, processing_class=tokenizer, args=args
    )
    assert trainer.train().global_step == 2
    rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    batch = trainer.data_collator(rows)
    trained = [
        [int(t) for t, label in zip(ids, labels) if label != IGNORE_INDEX]
        for ids, labels in zip(batch["input_ids"], batch["labels"])
    ]
    return tokenizer, rows, trained


@pytest.mark.parametrize("fmt", ["prompt_completion", "hf_dataset"])
def test_conversational_exports_train_the_assistant_turn_only(
    fmt: str, corpus: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    tokenizer, rows, trained = _trained_rows(fmt, corpus, tiny_llama, tmp_path)
    for row, ids in zip(rows, trained):
        # the template's assistant turn: the reply, its end-of-turn token and newline
        assert tokenizer.decode(ids) == REPLIES[row["id"]] + "<|im_end|>\n"
        assert len(ids) < len(row["input_ids"]) / 2  # system and user turns carry no loss
    meta = rows[0]["meta"]
    assert (
        json.loads(meta)["persona_id"] == "elder"
        if isinstance(meta, str)
        else meta["persona_id"] == "elder"
    )


def test_tags_export_trains_what_credo_train_trains(
    corpus: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    tokenizer, rows, trained = _trained_rows("tags", corpus, tiny_llama, tmp_path)
    tags = ChatFormat("tags")
    for row, ids in zip(rows, trained):
        record = Record(
            row["id"],
            [
                Message("user", f"Is the grass sacred? Question {row['id']}."),
                Message("assistant", REPLIES[row["id"]]),
            ],
        )
        ours = encode_record(record, tags, tokenizer, 512)
        credo_trained = [t for t in ours.labels if t != IGNORE_INDEX]
        # TRL appends EOS to a text completion; otherwise the very same tokens carry loss
        assert ids == [*credo_trained, tokenizer.eos_token_id]
        assert tokenizer.decode(ids) == REPLIES[row["id"]] + "</ASSISTANT_STATEMENT><|im_end|>"
        assert row["meta"]["slots"]["n"] == row["id"]
