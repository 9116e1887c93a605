"""Every check, collected once from its own declaration.

A check module declares its checks at its end (``CHECKS = (CheckSpec(...),)``, see
:mod:`credo.filters.spec`); this registry gathers the declarations of the modules in
``credo/filters/`` and of installed plugins (entry point group ``credo.filters``), ordered by
their ``order``. The audit, ``credo filter``, ``--checks``, ``--no-embedding`` and the reports
all read it; adding a check is its one module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from credo.errors import ConfigError
from credo.filters.base import Check
from credo.filters.spec import CheckSpec, Embedding
from credo.plugins import FILTERS, declared_in, with_plugins

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "CheckSpec",
    "Embedding",
    "all_checks",
    "build_checks",
    "builtin_checks",
    "check_spec",
    "embedding_options",
]


def builtin_checks() -> tuple[CheckSpec, ...]:
    """The checks declared by the modules of this package, in their declared order."""
    return tuple(sorted(declared_in("credo.filters", "CHECKS"), key=lambda s: s.order))


CHECKS = builtin_checks()  # the built-ins; plugins join in all_checks()
CHECK_NAMES = tuple(spec.name for spec in CHECKS)


def all_checks() -> tuple[CheckSpec, ...]:
    """Built-in and plugin checks, in order; a plugin may not take a built-in's name."""
    specs = with_plugins(list(CHECKS), FILTERS, kind=CheckSpec, name=lambda s: s.name, what="check")
    return tuple(sorted(specs.values(), key=lambda s: s.order))


def check_spec(name: str) -> CheckSpec:
    """The declaration of a check by name; an unknown name lists the known ones."""
    specs = {spec.name: spec for spec in all_checks()}
    try:
        return specs[name]
    except KeyError:
        raise ConfigError(
            f"--checks: unknown check {name!r} - expected one of {', '.join(specs)}"
        ) from None


EMBEDDING_MODES = ("fast", "minilm", "static")


def embedding_options(mode: str) -> dict[str, dict[str, Any]]:
    """Per-check settings for an embedding mode: ``fast`` (the default: the static model
    proposes, MiniLM confirms), ``minilm`` (MiniLM reads everything) or ``static`` (the static
    model decides at its own thresholds; no MiniLM, so no torch: the million-record setting;
    forbidden_request is then lexical)."""
    from credo.filters.contamination import ContaminationConfig
    from credo.filters.dedup import SemanticConfig

    if mode not in EMBEDDING_MODES:
        raise ConfigError(f"--embedding {mode!r}: expected one of {', '.join(EMBEDDING_MODES)}")
    if mode == "fast":
        return {}
    fast, confirm = mode != "minilm", mode != "static"
    options: dict[str, dict[str, Any]] = {
        "refusal": {"fast": fast, "confirm": confirm},
        "semantic_duplicate": {"config": SemanticConfig(fast=fast, confirm=confirm)},
        "eval_contamination": {"config": ContaminationConfig(fast=fast, confirm=confirm)},
    }
    if mode == "static":
        options["forbidden_request"] = {"use_embedding": False}
    return options


def build_checks(
    names: Sequence[str] | None = None,
    use_embedding: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Check]:
    """Checks by name (default: the built-ins; a plugin's runs when named), in declared order;
    without the embedding model the checks that need it are left out. ``options`` maps a
    check's name to its constructor settings."""
    chosen = {check_spec(n).name for n in names} if names else set(CHECK_NAMES)
    options = options or {}
    return [
        spec.build(use_embedding, **options.get(spec.name, {}))
        for spec in all_checks()
        if spec.name in chosen and (use_embedding or spec.embedding != "required")
    ]
