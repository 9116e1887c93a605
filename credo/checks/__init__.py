"""Checks over corpus records: each yields findings (record id, check name, details)."""

from credo.checks.base import AuditContext, Check, EvalItem, Finding
from credo.checks.refusal import RefusalDetector, RefusalScore, is_refusal

__all__ = ["AuditContext", "Check", "EvalItem", "Finding", "RefusalDetector", "RefusalScore", "is_refusal"]
