"""A check's declaration: everything the audit, ``credo filter`` and the reports know about it.

Each check module ends with ``CHECKS = (CheckSpec(...),)``; :mod:`credo.filters.registry`
collects the built-in modules' declarations and the ``credo.filters`` entry points of
installed plugins. Nothing else lists checks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from credo.filters.base import Check
from credo.filters.report import FindingsTable, PlotFn, TablesFn

# "none": never embeds; "optional": built with use_embedding (lexical-only without the model);
# "required": nothing to do without the model, so --no-embedding skips it. Left out, it is
# read from the check: "optional" when ``make`` takes ``use_embedding``, else "none".
Embedding = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class CheckSpec:
    """A check, declared once.

    ``make`` builds the check; its keyword arguments are the check's options (the audit's
    ``options={name: {...}}``). ``order`` places it in the audit and the reports (built-ins
    use 10..90; a plugin without one comes after them). ``findings`` is the table its findings
    add to the reports (a default one, every details key a column, when omitted); ``tables``
    and ``plot`` add tables and a plot built from its report section.
    """

    name: str
    make: Callable[..., Check]  # the check class (or any factory)
    gate: bool  # a blocking finding fails the audit
    drops: bool  # `credo filter` drops the records it flags
    embedding: Embedding | None = None  # None: from make's parameters (see Embedding)
    order: int = 100
    summary: str = ""  # what a finding means, in one line (the reports' failing-gate lead)
    findings: FindingsTable | None = None
    tables: TablesFn | None = None
    plot: PlotFn | None = None
    # what report.json keeps of its section (drop what only a plot needs)
    json_section: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.embedding is None:  # what the check takes cannot drift from what it declares
            object.__setattr__(
                self, "embedding", "optional" if _takes_embedding(self.make) else "none"
            )

    def build(self, embed: bool, **options: Any) -> Check:
        """The check; ``options`` are its own settings (the fidelity gate's rate, an LLM judge),
        and may turn its embedding stage off (``use_embedding``) but never on without ``embed``."""
        if self.embedding == "optional":
            options = {**options, "use_embedding": embed and options.get("use_embedding", True)}
        return self.make(**options)


def _takes_embedding(make: Callable[..., Check]) -> bool:
    try:
        return "use_embedding" in inspect.signature(make).parameters
    except (TypeError, ValueError):  # a callable without a signature to read
        return False
