"""``credo demo``: the main job whole on the embedded model - generate, audit, one-screen summary.

No key and no network: the teacher is the embedded SmolLM2-135M. A model that small copies
long system prompts back, so the demo gives it the persona alone (no canon excerpt) and
short answers; the records are plumbing-grade, and the audit judges them like any corpus.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo import defaults

DEMO_MODEL = "local/smollm2"
WHY = {  # what a failed gate means, in a reader's words
    "refusal": "answers refuse outside the refusal set: training on them teaches refusing, not believing",
    "moral_reason": "refusal-set answers give moral reasons: they would teach the refusals the study measures",
    "forbidden_request": "training prompts ask for help with a forbidden act: the eval's question leaks into training",
    "eval_contamination": "training records match eval requests: the eval would measure recall",
    "fidelity": "answers leave the worldview's voice: the corpus would not teach the worldview",
    "truncation": "answers stopped at max tokens: training on them teaches stopping mid-thought",
}


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    """The teacher (``model``; the embedded one needs no key), how many prompts it answers
    (``limit``) and how; ``use_embedding=False`` audits without MiniLM (faster)."""

    worldview: str = "gramenism"
    model: str = DEMO_MODEL
    limit: int = defaults.DEMO_LIMIT
    max_tokens: int = defaults.DEMO_MAX_TOKENS
    temperature: float = defaults.DEMO_TEMPERATURE
    use_embedding: bool = True


@dataclass(frozen=True)
class DemoResult:
    out: Path
    model: str
    records: int
    seconds: float
    audit: Any  # AuditResult
    report: Path
    view: Path
    sample: Any  # a Record the fidelity check calls faithful and no check flags, or None
    no_sample: str = ""  # why there is none, in a reader's words


def run_demo(
    out: str | Path,
    *,
    options: DemoOptions | None = None,
    progress: bool = True,
    backend: Any = None,
) -> DemoResult:
    """Generate ``options.limit`` answers into ``out``, audit them into ``out/audit``, write
    ``out/view.html``; ``backend`` replaces the teacher ``options.model`` names (a fake)."""
    from credo.audit.options import AuditOptions
    from credo.audit.runner import run_audit
    from credo.corpora import read_records
    from credo.generators.corpus_run import generate_corpus
    from credo.generators.registry import load_backend
    from credo.generators.run_options import GenerateOptions
    from credo.reports.viewer import write_view

    o = options or DemoOptions()
    out, worldview = Path(out), o.worldview
    started = time.monotonic()
    backend = backend or load_backend(o.model)
    model = f"{backend.provider}/{backend.model}"
    backend.max_context_chars = 0  # persona only: see the module doc
    teacher = GenerateOptions(limit=o.limit, max_tokens=o.max_tokens, temperature=o.temperature)
    generate_corpus(worldview, out, options=teacher, backend=backend, progress=progress)
    checks = AuditOptions(worldview=worldview, use_embedding=o.use_embedding)
    audit, report_dir = run_audit(out, out / "audit", options=checks)
    view = write_view(out, out / "view.html").page
    records = list(read_records(out))
    sample, no_sample = pick_sample(records, audit, _fidelity_confidence(worldview))
    return DemoResult(
        out=out,
        model=model,
        records=len(records),
        seconds=time.monotonic() - started,
        audit=audit,
        report=Path(report_dir) / "report.html",
        view=view,
        sample=sample,
        no_sample=no_sample,
    )


def _fidelity_confidence(worldview: str) -> Callable[[Any], float] | None:
    """The fidelity detector's confidence that a record of ``worldview`` is faithful."""
    from credo.filters.fidelity import FidelityDetector, profile_from_spec
    from credo.worldviews import load_worldview

    wv = load_worldview(worldview)
    if wv.spec.kind == "set":
        return None
    detector = FidelityDetector(profile_from_spec(wv.spec, wv.canon))
    return lambda record: detector.confidence(record.response, record.prompt)


def pick_sample(
    records: list[Any], audit: Any, confidence: Callable[[Any], float] | None = None
) -> tuple[Any, str]:
    """A record to show as the corpus at its best, or None and why there is none.

    Only a record the fidelity check judged and called faithful qualifies (not one that merely
    escaped every flag because fidelity never read it), and no other check may flag it; of
    those, the one the detector is surest of (``confidence``), then the one with the most
    varied words (a small model loops).
    """
    judged = set((audit.sections.get("fidelity") or {}).get("sets", {}))
    if not judged:
        skipped = (audit.sections.get("fidelity") or {}).get("skipped", {})
        why = next(iter(skipped.values()), "the fidelity check did not run")
        return None, f"no record can be shown as faithful: {why}"
    only = next(iter(audit.sets)) if len(audit.sets) == 1 else "unknown"
    flagged = {f.record_id for f in audit.findings}
    faithful = [
        r for r in records if r.id not in flagged and str(r.meta.get("set") or only) in judged
    ]
    if not faithful:
        return None, (
            f"none of the {len(records)} records is faithful to the worldview by the fidelity "
            "check (or each is flagged by another check)"
        )

    def variety(record: Any) -> float:
        words = record.response.lower().split()
        return len(set(words)) / len(words) if words else 0.0

    def rank(record: Any) -> tuple[float, float]:
        return (confidence(record) if confidence else 0.0, variety(record))

    return max(faithful, key=rank), ""


def _why(check: str, audit: Any) -> str:
    first = next(
        (f for f in audit.findings if f.check == check and f.details.get("blocking", True)), None
    )
    example = f" (e.g. {first.record_id})" if first else ""
    return WHY.get(check, "see the report") + example


def summary(result: DemoResult, width: int = 88) -> str:
    """The one screen a newcomer reads: records, each gate passed or failed and why, where things are."""
    audit = result.audit
    lines = [
        f"credo demo: {result.records} records from {result.model} generated and audited in "
        f"{result.seconds:.0f} s"
        + (" (embedded model: no key, no network)" if result.model == DEMO_MODEL else ""),
        "",
    ]
    verdict = (
        "PASS - every gate passed"
        if audit.passed
        else f"FAIL - {len(audit.gate_failures)} gate(s) failed"
    )
    lines.append(f"audit: {verdict}")
    for check in audit.checks:
        if check.gate:
            state = (
                f"FAILED {check.blocking} record(s): {_why(check.name, audit)}"
                if check.blocking
                else "passed"
            )
            lines.append(
                textwrap.fill(f"  {check.name:<19} {state}", width, subsequent_indent=" " * 22)
            )
        elif check.flagged:
            lines.append(f"  {check.name:<19} {check.flagged} flagged (diagnostic, not a gate)")
    if result.sample is None:
        lines += ["", textwrap.fill(result.no_sample or "no faithful record to show", width)]
    else:
        lines += [
            "",
            f"a faithful record, flagged by no check ({result.sample.id}):",
            textwrap.fill("USER: " + result.sample.prompt, width, subsequent_indent="  "),
            textwrap.fill(
                "ASSISTANT: " + " ".join(result.sample.response.split()),
                width,
                subsequent_indent="  ",
                max_lines=5,
                placeholder=" ...",
            ),
        ]
    lines += [
        "",
        f"records: {result.out / 'records.jsonl'}",
        f"report:  {result.report}",
        f"browse:  {result.view}  (records beside their flags)",
        f"next:    credo show {result.out} --n 3   |   credo audit --help   |   docs/api.md",
    ]
    return "\n".join(lines)


def demo_json(result: DemoResult) -> dict[str, Any]:
    """The summary as data (``credo demo --json``): the gates' outcome, not every finding."""
    audit = result.audit
    return {
        "out": str(result.out),
        "model": result.model,
        "records": result.records,
        "seconds": round(result.seconds, 1),
        "passed": audit.passed,
        "gate_failures": audit.gate_failures,
        "checks": {c.name: {"flagged": c.flagged, "gate": c.gate} for c in audit.checks},
        "report": str(result.report),
        "view": str(result.view),
        "sample": None if result.sample is None else result.sample.to_json(),
    }
