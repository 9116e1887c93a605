"""Run the checks over a corpus, collect findings, decide the gate, write the reports.

``run_audit`` is the library entry point behind ``credo audit``; ``credo filter`` reuses
:func:`audit_records`. The corpus is only read: the reports go to ``out`` (by default a
folder under ``$CREDO_HOME/audits`` named by the corpus hash).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo.corpora.io import MANIFEST_FILE, iter_jsonl, read_manifest, read_records, records_path
from credo.errors import ConfigError, CorpusError
from credo.filters.base import ActTerms, AuditContext, Check, EvalItem, Finding
from credo.filters.contamination import EvalContaminationCheck
from credo.filters.dedup import NearDuplicateCheck, SemanticDuplicateCheck
from credo.filters.diversity import DiversityCheck
from credo.filters.fidelity import FidelityCheck, FidelityConfig
from credo.filters.forbidden import ForbiddenRequestCheck, acts_from_spec
from credo.filters.refusal_checks import MoralReasonCheck, RefusalCheck
from credo.hashing import file_hash
from credo.paths import credo_home
from credo.types import Record

CHECK_NAMES = ("refusal", "moral_reason", "forbidden_request", "near_duplicate",
               "semantic_duplicate", "eval_contamination", "fidelity", "diversity")
EMBEDDING_CHECKS = ("semantic_duplicate",)


def build_checks(names: Sequence[str] | None = None, use_embedding: bool = True,
                 fidelity: FidelityConfig | None = None, fidelity_judge: Any = None) -> list[Check]:
    """Checks by name, in a fixed order; an unknown name is a ConfigError listing the known ones.

    ``fidelity_judge`` (an LLM fidelity judge) replaces the offline fidelity verdicts.
    """
    chosen = list(names) if names else list(CHECK_NAMES)
    unknown = [n for n in chosen if n not in CHECK_NAMES]
    if unknown:
        raise ConfigError(f"--checks: unknown check {', '.join(map(repr, unknown))} - expected one of {', '.join(CHECK_NAMES)}")
    if not use_embedding:
        chosen = [n for n in chosen if n not in EMBEDDING_CHECKS]
    factories = {
        "refusal": lambda: RefusalCheck(use_embedding=use_embedding),
        "moral_reason": MoralReasonCheck,
        "forbidden_request": lambda: ForbiddenRequestCheck(use_embedding=use_embedding),
        "near_duplicate": NearDuplicateCheck,
        "semantic_duplicate": SemanticDuplicateCheck,
        "eval_contamination": lambda: EvalContaminationCheck(use_embedding=use_embedding),
        "fidelity": lambda: FidelityCheck(config=fidelity or FidelityConfig(), judge=fidelity_judge),
        "diversity": DiversityCheck,
    }
    return [factories[n]() for n in CHECK_NAMES if n in chosen]


def load_evals(path: str | Path) -> list[EvalItem]:
    """Eval requests from JSONL: ``id``, ``prompt`` and optional ``kind`` (violation/control)."""
    items = []
    for number, data in iter_jsonl(Path(path)):
        if not isinstance(data.get("id"), (str, int)) or not isinstance(data.get("prompt"), str):
            raise CorpusError(f"{path}:{number}: expected an eval request with 'id' and 'prompt' (got keys {sorted(data)})")
        kind = str(data.get("kind", "violation"))
        if kind not in ("violation", "control"):
            raise CorpusError(f"{path}:{number}: 'kind' must be 'violation' or 'control', got {kind!r}")
        items.append(EvalItem(str(data["id"]), data["prompt"], kind))
    return items


def build_context(path: str | Path, eval_path: str | Path | None = None, worldview: str | None = None) -> AuditContext:
    """The corpus' set (from its manifest), the eval requests and the forbidden acts."""
    source = records_path(path)
    manifest = read_manifest(source.parent) if (source.parent / MANIFEST_FILE).is_file() else {}
    ctx = AuditContext(corpus_set=manifest.get("set") or manifest.get("worldview"))
    if worldview:
        from credo.worldviews import load_worldview

        wv = load_worldview(worldview)
        ctx.acts = acts_from_spec(wv.spec)
        ctx.spec, ctx.canon = wv.spec, dict(wv.canon)
        if wv.eval:
            ctx.evals = [EvalItem(r.id, r.prompt, "violation") for r in wv.eval.violation]
            ctx.evals += [EvalItem(r.id, r.prompt, "control") for r in wv.eval.control]
    if eval_path:
        ctx.evals += load_evals(eval_path)
    return ctx


@dataclass
class CheckRun:
    name: str
    gate: bool
    params: dict[str, Any]
    flagged: int
    seconds: float
    blocking: int = 0  # flagged records whose finding fails the gate (see Finding "blocking")


@dataclass
class AuditResult:
    source: str
    source_hash: str
    records: int
    sets: dict[str, int]
    checks: list[CheckRun]
    findings: list[Finding]
    sections: dict[str, Any]
    evals: int = 0
    acts: list[ActTerms] = field(default_factory=list)

    @property
    def gate_failures(self) -> dict[str, int]:
        return {c.name: c.blocking for c in self.checks if c.gate and c.blocking}

    @property
    def passed(self) -> bool:
        return not self.gate_failures

    def flags(self) -> list[dict[str, Any]]:
        """One entry per flagged record: ``{"id", "checks", "details"}`` in corpus order."""
        grouped: dict[str, dict[str, Any]] = {}
        for f in self.findings:
            entry = grouped.setdefault(f.record_id, {"id": f.record_id, "checks": [], "details": {}})
            entry["checks"].append(f.check)
            entry["details"][f.check] = f.details
        return list(grouped.values())


def audit_records(records: Sequence[Record], ctx: AuditContext, checks: Sequence[Check]) -> tuple[list[CheckRun], list[Finding]]:
    runs, findings = [], []
    for check in checks:
        start = time.perf_counter()
        found = list(check.run(records, ctx))
        # A finding may mark itself non-blocking (a near neighbour of an eval request is
        # reported for review but is not contamination); everything else fails a gate.
        blocking = sum(f.details.get("blocking", True) for f in found)
        runs.append(CheckRun(check.name, check.gate, check.params(), len(found),
                             round(time.perf_counter() - start, 3), blocking))
        findings.extend(found)
    return runs, findings


def run_audit(path: str | Path, out: str | Path | None = None, eval_path: str | Path | None = None,
              worldview: str | None = None, checks: Sequence[str] | None = None,
              use_embedding: bool = True, fidelity: FidelityConfig | None = None,
              fidelity_judge: Any = None) -> tuple[AuditResult, Path]:
    """Audit a corpus folder or JSONL; write report.json/md/html and flags.jsonl into ``out``."""
    from credo.audit.reports import write_reports

    chosen = build_checks(checks, use_embedding, fidelity, fidelity_judge)
    source = records_path(path)
    if out and Path(out).resolve() == source.parent.resolve():
        raise ConfigError(f"--out {out}: that is the corpus folder - audit never writes into its input; pick another folder")
    ctx = build_context(path, eval_path, worldview)
    records = list(read_records(source))
    source_hash = file_hash(str(source))
    runs, findings = audit_records(records, ctx, chosen)
    sets: dict[str, int] = {}
    for record in records:
        sets[ctx.set_of(record)] = sets.get(ctx.set_of(record), 0) + 1
    result = AuditResult(str(source), source_hash, len(records), sets, runs, findings, ctx.sections,
                         len(ctx.evals), ctx.acts)
    target = Path(out) if out else credo_home() / "audits" / source_hash.replace(":", "-")
    write_reports(result, target)
    return result, target
