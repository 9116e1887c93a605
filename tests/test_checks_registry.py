"""The check registry: one row per check decides how it is built, gated, and filtered."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_audit_cli import PLANTED, _write

from credo.audit.filter import dropped_ids
from credo.audit.options import AuditOptions
from credo.audit.result import AuditResult
from credo.audit.runner import audit_corpus
from credo.errors import ConfigError
from credo.filters.base import Finding
from credo.filters.registry import CHECK_NAMES, CHECKS, build_checks, check_spec


def test_every_registered_check_builds_under_its_own_name() -> None:
    assert [c.name for c in build_checks()] == list(CHECK_NAMES)
    assert len(set(CHECK_NAMES)) == len(CHECKS)


def test_no_embedding_leaves_out_only_the_checks_that_need_the_model() -> None:
    lexical = [c.name for c in build_checks(use_embedding=False)]
    assert lexical == [s.name for s in CHECKS if s.embedding != "required"]
    assert "semantic_duplicate" not in lexical
    # a check that can run without the model is told so
    assert all(
        not c.use_embedding
        for c in build_checks(use_embedding=False)
        if check_spec(c.name).embedding == "optional"
    )


def test_a_check_that_takes_use_embedding_is_optional_unless_declared() -> None:
    """What a check's class takes decides, so the two cannot drift; a declaration still wins."""
    from credo.filters.refusal import RefusalCheck
    from credo.filters.spec import CheckSpec
    from credo.filters.structure import StructureCheck

    assert CheckSpec("r", RefusalCheck, gate=True, drops=True).embedding == "optional"
    assert CheckSpec("s", StructureCheck, gate=True, drops=True).embedding == "none"
    declared = CheckSpec("r", RefusalCheck, gate=True, drops=True, embedding="required")
    assert declared.embedding == "required"
    assert not CheckSpec("r", RefusalCheck, gate=True, drops=True).build(False).use_embedding


def test_unknown_check_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown check 'spelling' - expected one of structure, refusal"
    ):
        build_checks(["refusal", "spelling"])


def test_gate_comes_from_the_registry_and_non_blocking_findings_do_not_fail_it(
    tmp_path: Path,
) -> None:
    result, records = audit_corpus(
        _write(tmp_path / "corpus", PLANTED), options=AuditOptions(use_embedding=False)
    )
    runs = {r.name: r for r in result.checks}
    assert all(runs[s.name].gate == s.gate for s in CHECKS if s.name in runs)
    assert runs["refusal"].blocking >= 1 and "refusal" in result.gate_failures
    assert runs["near_duplicate"].flagged >= 1 and "near_duplicate" not in result.gate_failures
    review_only = AuditResult(
        "x", "h", 1, {}, [], [Finding("r1", "eval_contamination", {}, blocking=False)], {}
    )
    assert review_only.passed and review_only.flags()[0]["blocking"] == []
    assert len(records.ids) == result.records == len(list(records))


def test_filter_drops_only_what_drop_checks_flag() -> None:
    findings = [
        Finding("a", "refusal", {}),
        Finding("b", "diversity", {}),
        Finding("c", "near_duplicate", {}),
    ]
    result = AuditResult("x", "h", 3, {}, [], findings, {})
    assert check_spec("diversity").drops is False
    assert dropped_ids(result) == {"a", "c"}
