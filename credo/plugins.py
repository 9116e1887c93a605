"""Third-party checks, backends and export formats, found through entry points (as llm's
plugins are): a package names its objects in its ``pyproject.toml``,

    [project.entry-points."credo.filters"]
    mycheck = "credo_mycheck:CHECKS"

and ``pip install`` is all it takes. The groups are :data:`GROUPS`; each registry
(:mod:`credo.filters.registry`, :mod:`credo.generators.registry`,
:mod:`credo.corpora.export`) reads its own group and checks what it gets.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import Any, TypeVar

from credo.errors import ConfigError

FILTERS, BACKENDS, EXPORTS = "credo.filters", "credo.backends", "credo.exports"
GROUPS = (FILTERS, BACKENDS, EXPORTS)
T = TypeVar("T")


@cache
def _installed() -> Any:  # EntryPoints (3.12+) or SelectableGroups (3.11): both .select()
    """Every installed entry point, read once (each read walks every installed package)."""
    return entry_points()


@cache
def plugin_objects(group: str) -> tuple[tuple[str, Any], ...]:
    """``(entry point name, loaded object)`` for every installed plugin of ``group``, sorted
    by name; a plugin that fails to import is named with the package that provides it."""
    found = []
    for point in sorted(_installed().select(group=group), key=lambda p: p.name):
        try:
            found.append((point.name, point.load()))
        except Exception as exc:  # any import-time failure of third-party code
            package = point.dist.name if point.dist else "an installed package"
            raise ConfigError(
                f"plugin {point.name!r} ({group}, from {package}): cannot load "
                f"{point.value!r} ({type(exc).__name__}: {exc}) - fix or uninstall {package}"
            ) from exc
    return tuple(found)


def declarations(group: str, kind: type) -> list[Any]:
    """The ``kind`` objects the plugins of ``group`` declare: an entry point names one, or a
    tuple of them (a check module's ``CHECKS``)."""
    out = []
    for name, obj in plugin_objects(group):
        items = obj if isinstance(obj, (list, tuple)) else [obj]
        for item in items:
            if not isinstance(item, kind):
                raise ConfigError(
                    f"plugin {name!r} ({group}): expected a {kind.__name__} (or a tuple of them), "
                    f"got {type(item).__name__} - point the entry point at the declaration"
                )
            out.append(item)
    return out


def declared_in(package: str, attribute: str, suffix: str = "") -> list[Any]:
    """What the modules of a credo package declare: each module (named ``*suffix``) whose
    ``attribute`` is set adds it (one declaration, or a tuple of them). The built-ins."""
    found: list[Any] = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.name.endswith(suffix):
            value = getattr(importlib.import_module(f"{package}.{info.name}"), attribute, ())
            found.extend(value if isinstance(value, (list, tuple)) else [value])
    return found


def with_plugins(
    builtins: list[T], group: str, kind: type, name: Callable[[T], str], what: str
) -> dict[str, T]:
    """Built-in declarations and the plugins' of ``group`` by name; a plugin may not take a
    built-in's name (``what`` says what the name is: "check", "provider", "format")."""
    found = {name(item): item for item in builtins}
    for item in declarations(group, kind):
        if name(item) in found:
            raise ConfigError(
                f"plugin {what} {name(item)!r} ({group}): a built-in {what} has that name - "
                f"rename the plugin's {what}"
            )
        found[name(item)] = item
    return found


def reset() -> None:
    """Forget what was found (after installing a plugin into a running process: tests)."""
    _installed.cache_clear()
    plugin_objects.cache_clear()
