"""A backend's declaration: its provider name, how to build it, its secrets, prices and batch API.

Each ``credo/generators/<name>_backend.py`` ends with ``BACKEND = BackendSpec(...)``;
:mod:`credo.generators.registry` collects them and the ``credo.backends`` entry points of
installed plugins. Secret scrubbing, the price table and ``--batch`` all read the declaration,
so adding a backend is its one module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from credo.generators.base import Backend


@dataclass(frozen=True)
class BackendSpec:
    """``provider`` is the part before the slash in ``--model provider/model``.

    ``make(model, **options)`` builds the backend. ``secrets`` are the environment variables
    that hold its credentials (blanked out of every error message credo shows). ``prices``
    maps a model name, or a prefix ending in ``*``, to (input, output) US dollars per million
    tokens. ``batch`` names its batch API class as ``"module:Class"`` (built with the backend;
    see :class:`credo.generators.batch_api.BatchAPI`), or is empty when it has none.
    """

    provider: str
    make: Callable[..., Backend]
    secrets: tuple[str, ...] = ()
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    batch: str = ""
    summary: str = ""  # one line for --help and the docs

    def batch_api(self, backend: Backend) -> Any:
        """The backend's batch API (the class is imported only when a batch run needs it)."""
        module, _, name = self.batch.partition(":")
        return getattr(importlib.import_module(module), name)(backend)
