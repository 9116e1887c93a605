"""Checks over corpus records: each yields findings (record id, check name, details, blocking).

Which checks exist, and what the audit and the filter do with each, is :mod:`credo.filters.registry`.
"""

from credo.filters.base import AuditContext, Check, EvalItem, Finding
from credo.filters.refusal_detector import RefusalDetector, RefusalScore, is_refusal

__all__ = [
    "AuditContext",
    "Check",
    "EvalItem",
    "Finding",
    "RefusalDetector",
    "RefusalScore",
    "is_refusal",
]
