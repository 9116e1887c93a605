"""Audit a corpus for refusal leakage, forbidden requests, duplicates and eval contamination.

The package is callable: ``credo.audit(path, out, options=AuditOptions(...))`` is :func:`audit` below.
"""

from collections.abc import Callable
from pathlib import Path

from credo._callable import make_callable
from credo.audit.filter import filter_corpus
from credo.audit.options import AuditOptions, FilterOptions
from credo.audit.result import AuditResult
from credo.audit.runner import load_evals, run_audit
from credo.filters.registry import CHECK_NAMES, build_checks

__all__ = [
    "CHECK_NAMES",
    "AuditOptions",
    "AuditResult",
    "FilterOptions",
    "audit",
    "build_checks",
    "filter_corpus",
    "load_evals",
    "run_audit",
]


def audit(
    path: str | Path,
    out: str | Path | None = None,
    *,
    options: AuditOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Audit a corpus; writes report.json/md/html and flags.jsonl into ``out``. ``.passed`` is the gate.

    ``progress`` hears the lines ``credo audit`` prints while it runs (each check's records/s
    and ETA); ``print`` shows them."""
    result, _ = run_audit(path, out, options=options, progress=progress)
    return result


make_callable(__name__)
