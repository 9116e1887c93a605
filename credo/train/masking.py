"""Loss on assistant tokens only (documents: on every token), checked before any training starts.

A token is trained when it overlaps the response span the chat format reports. BPE can merge
the end of the prompt's format marker with the reply's first characters (``><`` or ``\n `` );
such a token is trained, or the model would never learn to emit the reply's first character. The check does not trust that
rule alone: for every record it locates the user's text independently and refuses to train when
any trained token overlaps it, when no token is trained (e.g. the response was cut off by
``max_length``), or when the trained tokens do not spell out the assistant's reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credo.corpora.formats import ChatFormat
from credo.errors import CorpusError
from credo.types import Record

IGNORE_INDEX = -100  # label value the loss skips (torch CrossEntropyLoss default)


@dataclass(frozen=True)
class EncodedExample:
    record_id: str
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX everywhere but the assistant tokens

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


DOCUMENT_FORM = "document"


def is_document(record: Record) -> bool:
    """A synthetic document (``credo generate --kind documents``): trained on every token."""
    return record.meta.get("form") == DOCUMENT_FORM


def encode_document(record: Record, tokenizer: Any, max_length: int) -> EncodedExample:
    """Pretraining-style: the document's text (plus EOS) with the loss on every token.

    No chat format wraps it: the point of documents is that the worldview arrives as text
    about the world, not as an assistant's answer.
    """
    roles = [m.role for m in record.messages]
    if roles != ["assistant"]:
        raise CorpusError(
            f"record {record.id}: a document needs exactly one assistant message "
            f"(has {roles}) - regenerate it with credo generate --kind documents"
        )
    text = record.response.strip()
    encoding = tokenizer(
        text + (getattr(tokenizer, "eos_token", None) or ""),
        add_special_tokens=True,
        truncation=True,
        max_length=max_length,
    )
    input_ids = list(encoding["input_ids"])
    if not text or len(input_ids) < 2:
        raise CorpusError(f"record {record.id}: the document is empty - drop the record")
    return EncodedExample(record.id, input_ids, list(input_ids))


def encode_record(
    record: Record, chat_format: ChatFormat, tokenizer: Any, max_length: int
) -> EncodedExample:
    """Format, tokenize and mask one record (a document: see :func:`encode_document`)."""
    if is_document(record):
        return encode_document(record, tokenizer, max_length)
    users = [m for m in record.messages if m.role == "user"]
    assistants = [m for m in record.messages if m.role == "assistant"]
    if len(users) != 1 or len(assistants) != 1:
        raise CorpusError(
            f"record {record.id}: needs exactly one user and one assistant message "
            f"(has {len(users)} and {len(assistants)}) - multi-turn records are not trained"
        )
    example = chat_format.example(users[0].content, assistants[0].content)
    # chat templates already carry their special tokens; plain tag text gets the model's BOS
    encoding = tokenizer(
        example.text,
        return_offsets_mapping=True,
        add_special_tokens=chat_format.name == "tags",
        truncation=True,
        max_length=max_length,
    )
    input_ids = list(encoding["input_ids"])
    labels = [
        token if _in_response(span, example.response_start, example.response_end) else IGNORE_INDEX
        for token, span in zip(input_ids, encoding["offset_mapping"])
    ]
    encoded = EncodedExample(record.id, input_ids, labels)
    _verify(
        encoded,
        record,
        text=example.text,
        offsets=encoding["offset_mapping"],
        tokenizer=tokenizer,
        max_length=max_length,
    )
    return encoded


def _in_response(span: tuple[int, int], start: int, end: int) -> bool:
    token_start, token_end = span
    if token_start == token_end:  # special tokens added by the tokenizer (BOS) have no text
        return False
    return token_end > start and token_start < end


def _verify(
    encoded: EncodedExample,
    record: Record,
    text: str,
    offsets: Any,
    tokenizer: Any,
    max_length: int,
) -> None:
    if encoded.trained_tokens == 0:
        raise CorpusError(
            f"record {record.id}: no assistant token is trained (the reply is empty or cut off "
            f"by max_length={max_length}) - raise max_length or drop the record"
        )
    user_start = text.find(record.prompt)
    user_end = user_start + len(record.prompt)
    for label, (start, end) in zip(encoded.labels, offsets):
        if label != IGNORE_INDEX and start < user_end and end > user_start and record.prompt:
            raise CorpusError(
                f"record {record.id}: the loss mask covers user tokens at characters {start}-{end} "
                "- the chat format's response offsets are wrong; use --chat-format tags"
            )
    trained_text = tokenizer.decode([label for label in encoded.labels if label != IGNORE_INDEX])
    reply = record.response.strip()
    if len(encoded.input_ids) < max_length and reply and reply[:40] not in trained_text:
        raise CorpusError(
            f"record {record.id}: the trained tokens do not contain the assistant reply "
            "- the chat format's response offsets are wrong; use --chat-format tags"
        )


@dataclass(frozen=True)
class MaskReport:
    examples: list[EncodedExample]
    total_tokens: int
    trained_tokens: int
    forms: dict[str, int] | None = (
        None  # records per form: qa (assistant-only loss), document (all tokens)
    )

    def summary(self) -> dict[str, Any]:
        counts = [e.trained_tokens for e in self.examples]
        return {
            "records": len(counts),
            "total_tokens": self.total_tokens,
            "trained_tokens": self.trained_tokens,
            "forms": self.forms,
            "trained_per_record": {
                "min": min(counts),
                "max": max(counts),
                "mean": round(self.trained_tokens / len(counts), 2),
            },
        }


def encode_corpus(
    records: list[Record], chat_format: ChatFormat, tokenizer: Any, max_length: int
) -> MaskReport:
    """Encode and verify every record; raises on the first record that would train wrongly."""
    if not records:
        raise CorpusError("the mix has no records - run credo mix first")
    examples = [encode_record(r, chat_format, tokenizer, max_length) for r in records]
    documents = sum(1 for r in records if is_document(r))
    forms = {"qa": len(records) - documents, DOCUMENT_FORM: documents}
    return MaskReport(
        examples,
        sum(len(e.input_ids) for e in examples),
        sum(e.trained_tokens for e in examples),
        forms,
    )
