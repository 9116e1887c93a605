"""``hf_dataset``: ``hf_dataset/``, a ``datasets`` folder (``datasets.load_from_disk``) with the
conversational ``prompt``/``completion`` columns and ``meta`` as a JSON string (records' meta
keys and types vary; an Arrow column needs one type)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from credo.corpora.export_spec import ExportSpec
from credo.corpora.prompt_completion_export import conversational_row
from credo.errors import missing_dependency
from credo.runs import building_dir, replace_dir
from credo.types import Record


def arrow_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Conversational rows with ``meta`` as JSON text: one Arrow type whatever the meta holds."""
    rows = [conversational_row(r) for r in records]
    for row in rows:
        row["meta"] = json.dumps(row["meta"], ensure_ascii=False, sort_keys=True)
    return rows


def hf_dataset(records: Sequence[Record]) -> Any:
    """The records as an in-memory ``datasets.Dataset`` (columns id, prompt, completion, meta)."""
    try:
        from datasets import Dataset
        from datasets.utils.logging import disable_progress_bar
    except ImportError:
        raise missing_dependency("datasets", "a Hugging Face dataset export") from None
    disable_progress_bar()
    return Dataset.from_list(arrow_rows(records))


def write_hf_dataset(records: Sequence[Record], path: Path) -> None:
    with building_dir(path) as tmp:
        hf_dataset(records).save_to_disk(str(tmp / "data"))
        replace_dir(tmp / "data", path)
        tmp.rmdir()


def write(records: Sequence[Record], out: Path, tokenizer: str | None = None) -> dict[str, str]:
    write_hf_dataset(records, out / "hf_dataset")
    return {"records": "records.jsonl", "hf_dataset": "hf_dataset"}


EXPORTS = (ExportSpec("hf_dataset", write, "a datasets folder (load_from_disk)"),)
