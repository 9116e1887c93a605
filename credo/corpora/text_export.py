"""``tags`` / ``chat_template``: ``text.jsonl``, each line the formatted training text with the
character span the loss is computed on (``response_start``/``response_end``), exactly as
``credo train`` formats it; and ``prompt_completion.jsonl``, the same text cut at that span
into ``prompt``/``completion`` strings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from credo.corpora.export_spec import ExportSpec, write_lines
from credo.corpora.formats import ChatFormat
from credo.errors import ConfigError
from credo.models import load_tokenizer
from credo.types import Record


def message_record(record: Record, chat_format: ChatFormat) -> dict[str, Any]:
    """One record as formatted text plus its trained span (a document: all of it, unwrapped)."""
    if record.meta.get("form") == "document":
        text = record.response.strip()
        return {
            "id": record.id,
            "text": text,
            "response_start": 0,
            "response_end": len(text),
            "form": "document",
        }
    example = chat_format.example(record.prompt, record.response)
    return {
        "id": record.id,
        "text": example.text,
        "response_start": example.response_start,
        "response_end": example.response_end,
    }


def text_row(record: Record, chat_format: ChatFormat) -> dict[str, Any]:
    """The trained text cut at the loss span: the same characters ``credo train`` masks."""
    example = chat_format.example(record.prompt, record.response)
    return {
        "id": record.id,
        "prompt": example.text[: example.response_start],
        "completion": example.text[example.response_start : example.response_end],
        "meta": record.meta,
    }


def _writer(fmt: str) -> Any:
    def write(records: Sequence[Record], out: Path, tokenizer: str | None = None) -> dict[str, str]:
        if fmt == "chat_template" and not tokenizer:
            raise ConfigError(
                "format 'chat_template' needs --tokenizer (a model folder, or smollm2) - "
                "or use --format tags"
            )
        chat_format = ChatFormat(
            fmt, load_tokenizer(tokenizer) if tokenizer and fmt == "chat_template" else None
        )
        write_lines((message_record(r, chat_format) for r in records), out / "text.jsonl")
        write_lines((text_row(r, chat_format) for r in records), out / "prompt_completion.jsonl")
        return {
            "records": "records.jsonl",
            "text": "text.jsonl",
            "prompt_completion": "prompt_completion.jsonl",
        }

    return write


EXPORTS = (
    ExportSpec("tags", _writer("tags"), "the experiment's tag format, loss span marked"),
    ExportSpec(
        "chat_template",
        _writer("chat_template"),
        "the tokenizer's own chat template, loss span marked",
        needs_tokenizer=True,
    ),
)
