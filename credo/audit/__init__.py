"""Audit a corpus for refusal leakage, forbidden requests, duplicates and eval contamination."""

from credo.audit.filter import filter_corpus
from credo.audit.result import AuditResult
from credo.audit.runner import load_evals, run_audit
from credo.checks.registry import CHECK_NAMES, build_checks

__all__ = ["CHECK_NAMES", "AuditResult", "build_checks", "filter_corpus", "load_evals", "run_audit"]
