"""Training: LoRA SFT with loss on assistant tokens only, its config and masking.

The package is callable: ``credo.train(data, out, ...)`` is :func:`train` below.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from credo._callable import make_callable

if TYPE_CHECKING:
    from credo.train.outcome import TrainResult


def train(
    data: str | Path,
    out: str | Path,
    *,
    base_model: str = "smollm2",
    config: str | Path | None = None,
    progress: bool = True,
    **settings: Any,
) -> TrainResult:
    """LoRA SFT on a mix, loss on assistant tokens only; ``settings`` override the config (e.g. ``max_steps``)."""
    from credo.train.config import resolve_train_config, train_config_path
    from credo.train.lora import train_lora  # torch and transformers load here, not on import

    return train_lora(
        Path(data),
        base_model,
        Path(out),
        resolve_train_config(train_config_path(config), settings),
        progress=progress,
    )


make_callable(__name__)
