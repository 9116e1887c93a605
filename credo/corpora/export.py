"""A mix's export files, one per format, next to its ``records.jsonl``.

- ``tags`` / ``chat_template``: ``text.jsonl``, each line the formatted training text with the
  character span the loss is computed on (``response_start``/``response_end``), exactly as
  ``credo train`` formats it;
- ``openai``: ``openai.jsonl``, the OpenAI fine-tuning chat format (``{"messages": [...]}``);
- ``hf_dataset``: ``hf_dataset/``, a ``datasets`` folder (``datasets.load_from_disk``) with
  ``id``, ``messages`` and ``mix_part`` columns; ``records.jsonl`` itself opens with
  ``load_dataset("json", data_files=...)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from credo.corpora.formats import ChatFormat
from credo.corpora.io import CARD_FILE, write_text
from credo.errors import ConfigError, missing_dependency
from credo.hashing import content_hash
from credo.models import load_tokenizer
from credo.types import Record

MIX_FORMATS = ("tags", "chat_template", "openai", "hf_dataset")


def tokenizer_identity(name_or_path: str) -> dict[str, Any]:
    """Enough to tell later whether a model's tokenizer formats the mix the same way."""
    tokenizer = load_tokenizer(name_or_path)
    template = getattr(tokenizer, "chat_template", None)
    return {"name": name_or_path, "class": type(tokenizer).__name__,
            "chat_template_hash": content_hash(template) if template else None}


def message_record(record: Record, chat_format: ChatFormat) -> dict[str, Any]:
    """One record as formatted text plus its trained span."""
    example = chat_format.example(record.prompt, record.response)
    return {"id": record.id, "text": example.text, "response_start": example.response_start,
            "response_end": example.response_end}


def export_mix(records: list[Record], fmt: str, out: Path, tokenizer: str | None) -> dict[str, str]:
    """Write the format's export file(s); returns ``{role: relative path}`` for the manifest."""
    if fmt in ("tags", "chat_template"):
        if fmt == "chat_template" and not tokenizer:
            raise ConfigError("format 'chat_template' needs --tokenizer (a model folder, or smollm2) - or use --format tags")
        chat_format = ChatFormat(fmt, load_tokenizer(tokenizer) if fmt == "chat_template" else None)
        _write_lines((message_record(r, chat_format) for r in records), out / "text.jsonl")
        return {"records": "records.jsonl", "text": "text.jsonl"}
    if fmt == "openai":
        _write_lines(({"messages": [m.to_json() for m in r.messages]} for r in records), out / "openai.jsonl")
        return {"records": "records.jsonl", "openai": "openai.jsonl"}
    _write_hf_dataset(records, out / "hf_dataset")
    return {"records": "records.jsonl", "hf_dataset": "hf_dataset"}


def _write_lines(rows: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _write_hf_dataset(records: list[Record], path: Path) -> None:
    try:
        from datasets import Dataset
    except ImportError:
        raise missing_dependency("datasets", "--format hf_dataset") from None
    rows = [{"id": r.id, "messages": [m.to_json() for m in r.messages],
             "mix_part": str(r.meta.get("mix_part", ""))} for r in records]
    tmp = path.with_name(path.name + ".tmp")
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    Dataset.from_list(rows).save_to_disk(str(tmp))
    if path.exists():
        import shutil

        shutil.rmtree(path)
    tmp.replace(path)


def write_mix_card(manifest: dict[str, Any], out: Path) -> None:
    """A short dataset card: what went in, in what proportion, and what ran short."""
    lines = [f"# Training mix ({manifest['size']} records, format `{manifest['format']}`)", "",
             (f"Seed {manifest['seed']}; {manifest['size_requested']} records requested. "
             f"Records hash `{manifest['records_hash']}`."), "",
             "| part | weight | taken | available | corpus hash | audit |", "|---|---|---|---|---|---|"]
    for part in manifest["parts"]:
        lines.append(f"| {part['name']} | {part['weight']:g} | {part['taken']} | {part['available']} "
                     f"| `{part['corpus_hash']}` | {part['audit']['status']} |")
    if manifest["shortfalls"]:
        lines += ["", "## Shortfalls", ""] + [f"- {s}" for s in manifest["shortfalls"]]
    lines += ["", "Train on it with `credo train --data " + str(out) + " --base-model MODEL --out DIR`.", ""]
    write_text("\n".join(lines), out / CARD_FILE)
