"""``provider/model`` strings to backends; each provider's SDK is imported only when used.

The registry is a plain dict passed around (no process-global plugin state): tests and
callers can build their own with :func:`default_registry` plus extra factories.

Recipe - add a backend: write ``credo/generators/<name>_backend.py`` with a class that
subclasses :class:`Backend` (its attribute defaults: ``max_concurrency``,
``request_timeout``, ``max_context_chars``, ``base_url``) and implements its methods
(translate the request and response only; raise the SDK's errors and classify them in
``classify_error``; return blocks as ``Completion(stop_reason="content_filter")``). A hosted
HTTP API with an openai/anthropic-style SDK subclasses :class:`SDKBackend` instead, which
brings key lookup, client shards, error classification, headers and close; give it
``request_body`` and ``completion`` and it can also run batches (``batch_api.py``). Import
the SDK lazily (``missing_dependency`` on ImportError), add one ``_lazy`` line below, and
test it against :class:`credo.testing.FakeServer` or a scripted fake.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credo.errors import ConfigError
from credo.generators.base import Backend

BackendFactory = Callable[..., Backend]


@dataclass(frozen=True)
class ModelRef:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def _lazy(module: str, cls: str) -> BackendFactory:
    def factory(model: str, **options: Any) -> Backend:
        return getattr(importlib.import_module(module), cls)(model, **options)

    factory.__name__ = cls
    return factory


def default_registry() -> dict[str, BackendFactory]:
    return {
        "openai": _lazy("credo.generators.openai_backend", "OpenAIBackend"),
        "anthropic": _lazy("credo.generators.anthropic_backend", "AnthropicBackend"),
        "local": _lazy("credo.generators.local_backend", "LocalBackend"),
        "fake": _lazy("credo.generators.fake_backend", "FakeBackend"),
    }


def default_model() -> str:
    """openai if OPENAI_API_KEY is set, else anthropic if ANTHROPIC_API_KEY, else local."""
    if os.environ.get("OPENAI_API_KEY"):
        return "openai/gpt-4o-mini"
    if os.environ.get("ANTHROPIC_API_KEY"):
        return "anthropic/claude-3-5-haiku-latest"
    return "local/smollm2"


def parse_model(spec: str, registry: dict[str, BackendFactory] | None = None) -> ModelRef:
    known = sorted(registry or default_registry())
    provider, sep, model = spec.partition("/")
    if not sep or not provider or not model:
        raise ConfigError(
            f"--model {spec!r}: expected PROVIDER/MODEL, e.g. openai/gpt-4o-mini "
            f"(providers: {', '.join(known)})"
        )
    if provider not in known:
        raise ConfigError(
            f"--model {spec!r}: unknown provider '{provider}' - known providers: {', '.join(known)}"
        )
    return ModelRef(provider, model)


def load_backend(
    spec: str, registry: dict[str, BackendFactory] | None = None, **options: Any
) -> Backend:
    """Build the backend for ``provider/model``; options go to its constructor."""
    registry = registry or default_registry()
    ref = parse_model(spec, registry)
    return registry[ref.provider](ref.model, **options)
