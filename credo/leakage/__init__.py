"""Pretraining leakage and novelty checks (``credo leakage``) and model probes (``credo probe``).

The entry points for other commands (``credo audit --reference``) are
:func:`credo.leakage.check.leakage_section` (findings as a dict) and
:func:`credo.leakage.report.leakage_markdown` (that dict as a Markdown section).
"""
