"""What ``credo train`` wrote beside an adapter (``run.json``), read back.

Evaluation and the probe sample an adapter in the format it was trained in and refuse a
base model it was not trained on; the trainer writes the same file, so both sides share
:data:`RUN_FILE` here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from credo.corpora.formats import TRAINING_FORMATS
from credo.embedded import resolve_model_path
from credo.errors import ConfigError
from credo.schema import read_json, validate

RUN_FILE = "run.json"


_Steps = Annotated[int, Field(ge=0, le=10**12, strict=True)]
_Name = Annotated[str, Field(strict=True, max_length=4096)]


class _Point(BaseModel):
    model_config = ConfigDict(extra="allow")
    step: _Steps
    loss: Annotated[float, Field(allow_inf_nan=False)] | None = None


class _Tokens(BaseModel):
    model_config = ConfigDict(extra="allow")
    trained_tokens: Annotated[int, Field(ge=0, strict=True)]


class _RunFile(BaseModel):
    """The fields of ``run.json`` that evaluation, the probe and a rerun of train read back."""

    model_config = ConfigDict(extra="allow")
    fingerprint: _Name | None = None
    base_model: _Name | None = None
    format: _Name | None = None
    chat_format: _Name | None = None
    steps: _Steps | None = None
    trained_tokens: _Tokens | None = None
    loss_curve: list[_Point] | None = None
    tokens_per_second: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class _Checkpoint(BaseModel):
    """``checkpoint/state.json``: where a killed training run resumes."""

    model_config = ConfigDict(extra="allow")
    fingerprint: _Name
    step: _Steps
    tokens_seen: Annotated[int, Field(ge=0, strict=True)]
    loss_curve: list[_Point]


def read_train_file(path: Path, model: type[BaseModel] = _RunFile) -> dict[str, Any]:
    """A ``run.json`` (or, with ``_Checkpoint``, a checkpoint's ``state.json``) checked field by
    field; damaged, one line names the file, the field and how to recover."""
    if model is _Checkpoint:
        recover = f"delete {path.parent} to train from the start (pass the same --out)"
    else:
        recover = "retrain into a new --out (credo train), or restore the file"
    data = read_json(path, recover, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a JSON object expected, not a {type(data).__name__} - {recover}"
        )
    validate(model, data, path, hint=recover)
    return data


def read_checkpoint_state(path: Path) -> dict[str, Any]:
    return read_train_file(path, _Checkpoint)


def adapter_run(adapter: str | Path | None) -> dict[str, Any]:
    """The run manifest credo train wrote beside the adapter (empty when there is none)."""
    path = Path(adapter) / RUN_FILE if adapter is not None else None
    if path is None or not path.is_file():
        return {}
    return read_train_file(path)


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
