"""``provider/model`` strings to backends, from each backend module's own declaration.

Every ``credo/generators/<name>_backend.py`` declares ``BACKEND = BackendSpec(...)``
(:mod:`credo.generators.spec`): its provider, class, secrets, prices and batch API. This
module collects those declarations and the ``credo.backends`` entry points of installed
plugins; the secret scrubbing, the price table and ``--batch`` read them from here.

A registry passed around is a plain dict of factories (no process-global plugin state): tests
and callers can build their own with :func:`default_registry` plus extra factories.

Recipe - add a backend: write ``credo/generators/<name>_backend.py`` with a class that
subclasses :class:`Backend` (its attribute defaults: ``max_concurrency``,
``request_timeout``, ``max_context_chars``, ``base_url``) and implements its methods
(translate the request and response only; raise the SDK's errors and classify them in
``classify_error``; return blocks as ``Completion(stop_reason="content_filter")``). A hosted
HTTP API with an openai/anthropic-style SDK subclasses :class:`SDKBackend` instead, which
brings key lookup, client shards, error classification, headers and close; give it
``request_body`` and ``completion`` and it can also run batches (``batch_api.py``). Import
the SDK lazily (``missing_dependency`` on ImportError), end the module with its
``BACKEND = BackendSpec(...)``, and test it against :class:`credo.testing.FakeServer` or a
scripted fake. CONTRIBUTING.md shows a whole one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from credo.defaults import CONCURRENCY
from credo.errors import BackendError, ConfigError
from credo.generators.base import Backend
from credo.generators.retry import RetryPolicy
from credo.generators.spec import BackendSpec
from credo.plugins import BACKENDS, declared_in, with_plugins
from credo.redact import declare_secret_env_vars, scrub

BackendFactory = Callable[..., Backend]


@dataclass(frozen=True)
class ModelRef:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


@cache
def builtin_backends() -> tuple[BackendSpec, ...]:
    """The declarations of this package's ``*_backend`` modules (no SDK is imported)."""
    found = declared_in("credo.generators", "BACKEND", suffix="_backend")
    return tuple(sorted(found, key=lambda s: s.provider))


def all_backends() -> dict[str, BackendSpec]:
    """Built-in and plugin backends by provider; a plugin may not take a built-in's name."""
    builtins = list(builtin_backends())
    specs = with_plugins(
        builtins, BACKENDS, kind=BackendSpec, name=lambda s: s.provider, what="provider"
    )
    # the scrubber learns every declared credential (a plugin's too) the moment one is read
    declare_secret_env_vars([name for spec in specs.values() for name in spec.secrets])
    return specs


def backend_spec(provider: str) -> BackendSpec:
    specs = all_backends()
    if provider not in specs:
        raise ConfigError(
            f"unknown provider '{provider}' - known providers: {', '.join(sorted(specs))}"
        )
    return specs[provider]


def default_registry() -> dict[str, BackendFactory]:
    return {provider: spec.make for provider, spec in all_backends().items()}


def secret_env_vars() -> tuple[str, ...]:
    """Every environment variable a backend declares as holding a credential."""
    return tuple(sorted({name for spec in all_backends().values() for name in spec.secrets}))


def declared_prices() -> dict[str, tuple[float, float]]:
    """``provider/model`` (or ``provider/prefix*``) -> (input, output) USD per 1M tokens."""
    return {
        f"{spec.provider}/{model}": price
        for spec in all_backends().values()
        for model, price in spec.prices.items()
    }


def batch_api_for(backend: Any) -> Any:
    """The batch API of a backend's provider; a provider without one is refused up front."""
    spec = all_backends().get(backend.provider)
    if spec is None or not spec.batch:
        with_batch = sorted(p for p, s in all_backends().items() if s.batch)
        raise BackendError(
            f"{backend.provider}/{backend.model}: --batch needs a provider with a "
            f"batch API ({', '.join(f'{p}/...' for p in with_batch)})"
        )
    return spec.batch_api(backend)


def default_model() -> str:
    """openai if OPENAI_API_KEY is set, else anthropic if ANTHROPIC_API_KEY, else local."""
    if os.environ.get("OPENAI_API_KEY"):
        return "openai/gpt-4o-mini"
    if os.environ.get("ANTHROPIC_API_KEY"):
        return "anthropic/claude-3-5-haiku-latest"
    return "local/smollm2"


def parse_model(spec: str, registry: dict[str, BackendFactory] | None = None) -> ModelRef:
    known = sorted(registry or default_registry())
    if scrub(spec) != spec:  # the name would reach manifests, labels and reports verbatim
        raise ConfigError(
            f"--model {scrub(spec)!r}: the name carries a credential - give the key in the "
            "provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...), "
            "never in the model name"
        )
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


def load_teacher(
    backend: Backend | None,
    model: str | None,
    registry: dict[str, BackendFactory] | None,
    *,
    timeout: float | None,
    concurrency: int | None,
    **options: Any,
) -> tuple[RetryPolicy, Backend]:
    """A generation run's retry policy (``CREDO_*`` settings, ``timeout``) and its teacher:
    ``backend`` as given, or ``model`` (default :func:`default_model`) from ``registry``,
    its clients sized for ``concurrency`` in flight (``None``: paced, ``CONCURRENCY``)."""
    policy = RetryPolicy.from_env(timeout=timeout)
    if backend is None:
        backend = load_backend(
            model or default_model(),
            registry,
            timeout=policy.timeout,
            concurrency=concurrency or CONCURRENCY,
            **options,
        )
    return policy, backend
