"""``prompt_completion``: ``prompt_completion.jsonl`` with ``prompt`` (the chat messages before
the reply) and ``completion`` (the assistant message) lists, for any model's own template.

This is the dataset shape TRL's ``SFTTrainer`` (and Unsloth, which trains through it) puts
loss on the completion only, with no code and no template markers.
"""

from __future__ import annotations

from typing import Any

from credo.corpora.export_spec import jsonl_export
from credo.errors import CorpusError
from credo.types import Record


def conversational_row(record: Record) -> dict[str, Any]:
    """``prompt``: every message before the last assistant turn; ``completion``: that turn."""
    last = max((i for i, m in enumerate(record.messages) if m.role == "assistant"), default=None)
    if last is None:
        raise CorpusError(
            f"record {record.id}: has no assistant message - drop it or regenerate the corpus"
        )
    return {
        "id": record.id,
        "prompt": [m.to_json() for m in record.messages[:last]],
        "completion": [record.messages[last].to_json()],
        "meta": record.meta,
    }


EXPORTS = (
    jsonl_export(
        "prompt_completion",
        "prompt_completion.jsonl",
        conversational_row,
        "conversational prompt/completion lists (TRL trains the completion only)",
    ),
)
