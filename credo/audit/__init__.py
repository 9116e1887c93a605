"""Audit a corpus for refusal leakage, forbidden requests, duplicates and eval contamination."""

from credo.audit.filter import filter_corpus
from credo.audit.runner import CHECK_NAMES, AuditResult, build_checks, load_evals, run_audit

__all__ = ["CHECK_NAMES", "AuditResult", "build_checks", "filter_corpus", "load_evals", "run_audit"]

# `credo.audit(...)` stays the API function (credo.api.audit) after this package is imported.
from credo._callable import make_callable  # noqa: E402

make_callable(__name__)
