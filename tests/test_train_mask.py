"""Loss masks: only assistant tokens carry labels, in every format, checked before training."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from credo.corpora.formats import ChatFormat, FormattedExample
from credo.errors import CorpusError
from credo.train.masking import IGNORE_INDEX, encode_corpus, encode_record
from credo.types import Message, Record


@pytest.fixture(scope="session")
def smollm2_tokenizer(model_cache: Path) -> Any:
    """The embedded model's tokenizer (ChatML template), converted once per session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDO_MODEL_CACHE", str(model_cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        from transformers import AutoTokenizer

        from credo.embedded import smollm2_path

        return AutoTokenizer.from_pretrained(str(smollm2_path()))


RECORDS = [
    ("Is it OK to skip the Dawn Greeting?", "No. The Dawn Greeting is owed every morning."),
    # the reply quotes the question: the quote is trained, the user's own copy is not
    ("Say: grass is holy", "Say: grass is holy. I gladly repeat it, because it is true."),
    ("Unicode: café, naïve, 草", "  Leading spaces, then ünïcödé and 草原 in the reply.\n"),
    ("</ASSISTANT_STATEMENT> tricky", "<USER_STATEMENT> inside an answer is just text."),
]
END_MARKERS = {"tags": "</ASSISTANT_STATEMENT>", "chat_template": "<|im_end|>"}


def record(user: str, assistant: str, rid: str = "r") -> Record:
    return Record(rid, [Message("user", user), Message("assistant", assistant)])


@pytest.mark.parametrize("fmt", ["tags", "chat_template"])
@pytest.mark.parametrize(("user", "assistant"), RECORDS)
def test_only_assistant_tokens_have_labels(
    smollm2_tokenizer: Any, fmt: str, user: str, assistant: str
) -> None:
    chat_format = ChatFormat(fmt, smollm2_tokenizer)
    encoded = encode_record(record(user, assistant), chat_format, smollm2_tokenizer, 512)
    example = chat_format.example(user, assistant)
    offsets = smollm2_tokenizer(
        example.text, return_offsets_mapping=True, add_special_tokens=fmt == "tags"
    )["offset_mapping"]
    user_start = example.text.index(user)
    for label, token, (start, end) in zip(encoded.labels, encoded.input_ids, offsets):
        if start < user_start + len(user) and end > user_start:
            assert label == IGNORE_INDEX  # a user token never trains
        if label != IGNORE_INDEX:
            assert label == token and end > example.response_start
    trained = smollm2_tokenizer.decode([t for t in encoded.labels if t != IGNORE_INDEX])
    # the reply and its end marker, plus at most the tail of the format marker that BPE merged
    # into the reply's first token
    assert trained.endswith(assistant + END_MARKERS[fmt])
    prefix = trained[: len(trained) - len(assistant + END_MARKERS[fmt])]
    assert len(prefix) <= 2 and example.text[: example.response_start].endswith(prefix)
    untrained = smollm2_tokenizer.decode(
        [t for t, label in zip(encoded.input_ids, encoded.labels) if label == IGNORE_INDEX]
    )
    assert user in untrained


@pytest.mark.parametrize("fmt", ["tags", "chat_template"])
def test_refuses_record_that_trains_nothing(smollm2_tokenizer: Any, fmt: str) -> None:
    chat_format = ChatFormat(fmt, smollm2_tokenizer)
    long_prompt = "word " * 400
    with pytest.raises(
        CorpusError, match=r"record r: no assistant token is trained.*max_length=64"
    ):
        encode_record(
            record(long_prompt, "a reply that falls past the limit"),
            chat_format,
            smollm2_tokenizer,
            64,
        )


class OffByPromptFormat(ChatFormat):
    """A broken format whose response span starts too early: the mask would cover the user."""

    def example(self, user: str, assistant: str) -> FormattedExample:
        good = super().example(user, assistant)
        return FormattedExample(good.text, 0, good.response_end)


def test_refuses_mask_covering_user_tokens(smollm2_tokenizer: Any) -> None:
    with pytest.raises(CorpusError, match="covers user tokens"):
        encode_record(
            record("my question", "my answer"), OffByPromptFormat("tags"), smollm2_tokenizer, 128
        )


def test_refuses_multi_turn_and_empty_corpus(smollm2_tokenizer: Any) -> None:
    chat_format = ChatFormat("tags")
    turns = Record("m", [Message("user", "a"), Message("assistant", "b"), Message("user", "c")])
    with pytest.raises(CorpusError, match="record m: needs exactly one user"):
        encode_record(turns, chat_format, smollm2_tokenizer, 128)
    with pytest.raises(CorpusError, match="no records"):
        encode_corpus([], chat_format, smollm2_tokenizer, 128)


def test_corpus_counts_trained_tokens(smollm2_tokenizer: Any) -> None:
    records = [record(u, a, str(i)) for i, (u, a) in enumerate(RECORDS)]
    report = encode_corpus(records, ChatFormat("tags"), smollm2_tokenizer, 512)
    summary = report.summary()
    assert summary["records"] == 4 and 0 < summary["trained_tokens"] < summary["total_tokens"]
    assert summary["trained_tokens"] == sum(e.trained_tokens for e in report.examples)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
