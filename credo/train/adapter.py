"""What ``credo train`` wrote beside an adapter (``run.json``), read back.

Evaluation and the probe sample an adapter in the format it was trained in and refuse a
base model it was not trained on; the trainer writes the same file, so both sides share
:data:`RUN_FILE` here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from credo.corpora.formats import TRAINING_FORMATS
from credo.corpora.io import read_json_file
from credo.embedded import resolve_model_path
from credo.errors import ConfigError

RUN_FILE = "run.json"


def adapter_run(adapter: str | Path | None) -> dict[str, Any]:
    """The run manifest credo train wrote beside the adapter (empty when there is none)."""
    path = Path(adapter) / RUN_FILE if adapter is not None else None
    if path is None or not path.is_file():
        return {}
    run: dict[str, Any] = read_json_file(path, "rerun credo train")
    return run


def trained_format(adapter: str | Path | None, requested: str | None) -> str:
    """The adapter's training format (its run.json) wins; a conflicting --format is an error."""
    run = adapter_run(adapter)
    trained = run.get("chat_format") or run.get("format")
    if requested and requested not in TRAINING_FORMATS:
        raise ConfigError(f"--format {requested!r}: use one of {', '.join(TRAINING_FORMATS)}")
    if trained and requested and trained != requested:
        raise ConfigError(
            f"{adapter}/{RUN_FILE}: the adapter was trained in format '{trained}' but "
            f"--format is '{requested}' - drop --format or pass --format {trained}"
        )
    return trained or requested or "tags"


def check_base_model(model: str, adapter: str | Path | None) -> None:
    """An adapter only fits the base model it was trained on."""
    base = adapter_run(adapter).get("base_model")
    if not base or base == model:
        return
    if Path(resolve_model_path(base)).resolve() != Path(resolve_model_path(model)).resolve():
        raise ConfigError(
            f"{adapter}/{RUN_FILE}: the adapter was trained on '{base}' but --model is "
            f"'{model}' - pass --model {base}"
        )
