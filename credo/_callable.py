"""Packages that are also functions: ``credo.audit(...)`` and ``credo.train(...)``.

``credo.audit`` is both a subpackage and a top-level API function. Importing the package
rebinds the name ``credo.audit`` to the module, so a plain function export would vanish
the first time anything imports ``credo.audit.runner``. Making the package module callable
(calling its function of the same name, ``credo.audit.audit``) keeps both meanings,
whatever was imported first.
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

from credo.quiet import library_bars_off


class CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # an API entry point like credo.api's: third-party bars off unless verbose
        with library_bars_off():
            return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


def make_callable(module_name: str) -> None:
    """Call at the end of the package: ``inspect.signature`` and ``help`` then show the
    function's own signature, not ``(*args, **kwargs)``."""
    module = sys.modules[module_name]
    module.__class__ = CallablePackage
    function = getattr(module, module_name.rpartition(".")[2])
    module.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
