"""A mix's export files, one per format, next to its ``records.jsonl``.

- ``tags`` / ``chat_template``: ``text.jsonl``, each line the formatted training text with the
  character span the loss is computed on (``response_start``/``response_end``), exactly as
  ``credo train`` formats it; and ``prompt_completion.jsonl``, the same text cut at that span
  into ``prompt``/``completion`` strings;
- ``openai``: ``openai.jsonl``, the OpenAI fine-tuning chat format (``{"messages": [...]}``);
- ``prompt_completion``: ``prompt_completion.jsonl`` with ``prompt`` (the chat messages before
  the reply) and ``completion`` (the assistant message) lists, for any model's own template;
- ``hf_dataset``: ``hf_dataset/``, a ``datasets`` folder (``datasets.load_from_disk``) with the
  same conversational ``prompt``/``completion`` columns.

Every trainer-ready file also keeps ``id`` and ``meta`` (a JSON string in Arrow files, where
records' meta keys and types vary). ``prompt``/``completion`` is the dataset shape TRL's
``SFTTrainer`` (and Unsloth, which trains through it) puts loss on the completion only, with no
code and no template markers (``tests/test_trainer_exports.py`` checks it token by token).
``records.jsonl`` itself opens with ``load_dataset("json", data_files=...)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from credo.corpora.formats import ChatFormat
from credo.corpora.io import CARD_FILE, write_text
from credo.errors import ConfigError, CorpusError, missing_dependency
from credo.hashing import content_hash
from credo.models import load_tokenizer
from credo.types import Record

MIX_FORMATS = ("tags", "chat_template", "openai", "prompt_completion", "hf_dataset")
OPENAI_MIN_EXAMPLES = 10  # OpenAI's fine-tuning API rejects a training file with fewer


def tokenizer_identity(name_or_path: str) -> dict[str, Any]:
    """Enough to tell later whether a model's tokenizer formats the mix the same way."""
    tokenizer = load_tokenizer(name_or_path)
    template = getattr(tokenizer, "chat_template", None)
    return {
        "name": name_or_path,
        "class": type(tokenizer).__name__,
        "chat_template_hash": content_hash(template) if template else None,
    }


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


def text_row(record: Record, chat_format: ChatFormat) -> dict[str, Any]:
    """The trained text cut at the loss span: the same characters ``credo train`` masks."""
    example = chat_format.example(record.prompt, record.response)
    return {
        "id": record.id,
        "prompt": example.text[: example.response_start],
        "completion": example.text[example.response_start : example.response_end],
        "meta": record.meta,
    }


def export_mix(records: list[Record], fmt: str, out: Path, tokenizer: str | None) -> dict[str, str]:
    """Write the format's export file(s); returns ``{role: relative path}`` for the manifest."""
    if fmt in ("tags", "chat_template"):
        if fmt == "chat_template" and not tokenizer:
            raise ConfigError(
                "format 'chat_template' needs --tokenizer (a model folder, or smollm2) - or use --format tags"
            )
        chat_format = ChatFormat(
            fmt, load_tokenizer(tokenizer) if tokenizer and fmt == "chat_template" else None
        )
        _write_lines((message_record(r, chat_format) for r in records), out / "text.jsonl")
        _write_lines((text_row(r, chat_format) for r in records), out / "prompt_completion.jsonl")
        return {
            "records": "records.jsonl",
            "text": "text.jsonl",
            "prompt_completion": "prompt_completion.jsonl",
        }
    if fmt == "openai":
        _write_lines(
            ({"messages": [m.to_json() for m in r.messages]} for r in records), out / "openai.jsonl"
        )
        return {"records": "records.jsonl", "openai": "openai.jsonl"}
    if fmt == "prompt_completion":
        _write_lines((conversational_row(r) for r in records), out / "prompt_completion.jsonl")
        return {"records": "records.jsonl", "prompt_completion": "prompt_completion.jsonl"}
    write_hf_dataset(records, out / "hf_dataset")
    return {"records": "records.jsonl", "hf_dataset": "hf_dataset"}


def export_warnings(fmt: str, count: int) -> list[str]:
    """What a provider will reject about an export of ``count`` records (empty when fine)."""
    if fmt == "openai" and count < OPENAI_MIN_EXAMPLES:
        return [
            f"openai.jsonl holds {count} examples; OpenAI fine-tuning needs at least "
            f"{OPENAI_MIN_EXAMPLES} - mix a larger --size before uploading it"
        ]
    return []


def _write_lines(rows: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def arrow_rows(records: list[Record]) -> list[dict[str, Any]]:
    """Conversational rows with ``meta`` as JSON text: one Arrow type whatever the meta holds."""
    rows = [conversational_row(r) for r in records]
    for row in rows:
        row["meta"] = json.dumps(row["meta"], ensure_ascii=False, sort_keys=True)
    return rows


def hf_dataset(records: list[Record]) -> Any:
    """The records as an in-memory ``datasets.Dataset`` (columns id, prompt, completion, meta)."""
    try:
        from datasets import Dataset
        from datasets.utils.logging import disable_progress_bar
    except ImportError:
        raise missing_dependency("datasets", "a Hugging Face dataset export") from None
    disable_progress_bar()
    return Dataset.from_list(arrow_rows(records))


def write_hf_dataset(records: list[Record], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    hf_dataset(records).save_to_disk(str(tmp))
    if path.exists():
        import shutil

        shutil.rmtree(path)
    tmp.replace(path)


def _forms_line(forms: dict[str, int] | None) -> list[str]:
    if not forms or not forms.get("document"):
        return []
    return [
        f"Forms: {forms.get('qa', 0)} Q&A records (loss on the assistant turn only) and "
        f"{forms['document']} documents (loss on every token), trained in one run.",
        "",
    ]


def write_mix_card(manifest: dict[str, Any], out: Path) -> None:
    """A short dataset card: what went in, in what proportion, and what ran short."""
    lines = [
        f"# Training mix ({manifest['size']} records, format `{manifest['format']}`)",
        "",
        (
            f"Seed {manifest['seed']}; {manifest['size_requested']} records requested. "
            f"Records hash `{manifest['records_hash']}`."
        ),
        "",
        *_forms_line(manifest.get("forms")),
        "| part | weight | taken | available | corpus hash | audit |",
        "|---|---|---|---|---|---|",
    ]
    for part in manifest["parts"]:
        lines.append(
            f"| {part['name']} | {part['weight']:g} | {part['taken']} | {part['available']} "
            f"| `{part['corpus_hash']}` | {part['audit']['status']} |"
        )
    if manifest["shortfalls"]:
        lines += ["", "## Shortfalls", ""] + [f"- {s}" for s in manifest["shortfalls"]]
    lines += [
        "",
        "Train on it with `credo train --data " + str(out) + " --base-model MODEL --out DIR`.",
        "",
    ]
    write_text("\n".join(lines), out / CARD_FILE)
