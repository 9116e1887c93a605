"""``credo lint`` as a library call: every finding about a spec, with the exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from credo.worldviews.loader import LoadedWorldview

if TYPE_CHECKING:
    from credo.authoring.lint import Finding


@dataclass(frozen=True, kw_only=True)
class LintOptions:
    """``judge``: PROVIDER/MODEL checking canon passages against tenets (off by default);
    ``references``: texts for the novelty check (default ``$CREDO_REFERENCE``);
    ``use_embedding=False`` skips the semantic eval-paraphrase check."""

    strict: bool = False
    judge: str | None = None
    references: Sequence[str] = ()
    use_embedding: bool = True


@dataclass(frozen=True)
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    exit_code: int = 0  # 1 on errors (or on warnings with strict)


def lint_spec(
    spec: str | Path | LoadedWorldview, *, options: LintOptions | None = None
) -> LintReport:
    """Lint a spec folder, spec.yaml or shipped name; each finding names its spec line."""
    from credo.authoring.lint import lint_worldview  # numpy/MinHash: loaded when used
    from credo.worldviews import load_worldview

    options = options or LintOptions()
    wv = spec if isinstance(spec, LoadedWorldview) else load_worldview(spec)
    findings = lint_worldview(wv, use_embedding=options.use_embedding)
    if options.judge:
        from credo.authoring.contradictions import find_contradictions

        findings += find_contradictions(wv, options.judge)
    findings += novelty(wv, list(options.references))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    failed = bool(errors or (options.strict and warnings))
    return LintReport(findings, errors, warnings, 1 if failed else 0)


def novelty(wv: LoadedWorldview, references: list[str] | None) -> list[Finding]:
    """Novelty findings when a reference is configured (given, or $CREDO_REFERENCE)."""
    from credo.authoring.novelty import configured_references, novelty_findings

    chosen = configured_references(references)
    return novelty_findings(wv, chosen) if chosen and wv.spec.kind == "invented" else []
