"""Local transformers models and tokenizers, by folder or embedded name, and trained adapters.

One loader for everything that opens a model here (the trainer, local evaluation, the
probe, exports): it keeps the hub offline, resolves ``smollm2`` to the embedded model, and
turns a failed ``from_pretrained`` into a one-line error with the fix. What an adapter was
trained with is :mod:`credo.train.adapter`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.embedded import resolve_model_path
from credo.errors import ConfigError, missing_dependency


def _transformers(feature: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # set before transformers is first imported
    try:
        import transformers
    except ImportError:
        raise missing_dependency("transformers", feature) from None
    return transformers


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:160]


def load_tokenizer(name_or_path: str) -> Any:
    """A tokenizer by path or embedded name (``smollm2``), with a fix-carrying error."""
    transformers = _transformers("loading a tokenizer")
    try:
        return transformers.AutoTokenizer.from_pretrained(resolve_model_path(name_or_path))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load a tokenizer from '{name_or_path}' ({_first_line(exc)}) - "
            "pass a local model folder with tokenizer files, or 'smollm2' for the embedded model"
        ) from None


def load_causal_lm(name_or_path: str, *, feature: str, fix: str, **options: Any) -> Any:
    """A causal LM by path or embedded name; ``fix`` ends the error when it cannot load."""
    transformers = _transformers(feature)
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(
            resolve_model_path(name_or_path), **options
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load model '{name_or_path}' ({_first_line(exc)}) - {fix}"
        ) from None


def load_adapter(model: Any, adapter: str | Path) -> Any:
    """``model`` with the PEFT adapter folder that credo train wrote."""
    try:
        from peft import PeftModel
    except ImportError:
        raise missing_dependency("peft", "loading an adapter") from None
    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").is_file():
        raise ConfigError(f"{adapter}: no adapter_config.json - pass the folder credo train wrote")
    return PeftModel.from_pretrained(model, str(adapter))


@dataclass(frozen=True)
class LocalModel:
    model: Any
    tokenizer: Any
    name: str
    adapter: str | None = None


def load_local_model(model: str, adapter: str | Path | None = None) -> LocalModel:
    """A base model and its tokenizer, with an adapter on top, ready for generation."""
    tokenizer = load_tokenizer(model)
    loaded = load_causal_lm(
        model,
        feature="local generation",
        fix="pass a local model folder, 'smollm2', or a served PROVIDER/MODEL",
    )
    if adapter is not None:
        loaded = load_adapter(loaded, adapter)
    loaded.eval()
    return LocalModel(loaded, tokenizer, model, str(adapter) if adapter else None)
