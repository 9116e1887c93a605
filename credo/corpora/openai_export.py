"""``openai``: ``openai.jsonl``, the OpenAI fine-tuning chat format (``{"messages": [...]}``)."""

from __future__ import annotations

from dataclasses import replace

from credo.corpora.export_spec import jsonl_export

OPENAI_MIN_EXAMPLES = 10  # OpenAI's fine-tuning API rejects a training file with fewer


def too_few(count: int) -> list[str]:
    if count < OPENAI_MIN_EXAMPLES:
        return [
            f"openai.jsonl holds {count} examples; OpenAI fine-tuning needs at least "
            f"{OPENAI_MIN_EXAMPLES} - mix a larger --size before uploading it"
        ]
    return []


EXPORTS = (
    replace(
        jsonl_export(
            "openai",
            "openai.jsonl",
            lambda r: {"messages": [m.to_json() for m in r.messages]},
            "the OpenAI fine-tuning chat format",
        ),
        warnings=too_few,
    ),
)
