"""What ``credo validate`` and ``credo worldviews`` report about a spec: its counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from credo.templates.render import render_prompts
from credo.worldviews import load_worldview
from credo.worldviews.loader import LoadedWorldview


@dataclass(frozen=True)
class SpecSummary:
    name: str
    kind: str
    prompts: int
    personas: int
    acts: int
    violation: int
    control: int
    spec_hash: str


def summarise_spec(spec: str | Path | LoadedWorldview) -> SpecSummary:
    """Load and validate a spec (a shipped name or a folder), render its prompts, count."""
    wv = spec if isinstance(spec, LoadedWorldview) else load_worldview(spec)
    evals = wv.eval
    return SpecSummary(
        name=wv.name,
        kind=wv.spec.kind,
        prompts=len(render_prompts(wv)),
        personas=len(wv.spec.personas),
        acts=len(wv.spec.forbidden_acts),
        violation=len(evals.violation) if evals else 0,
        control=len(evals.control) if evals else 0,
        spec_hash=wv.spec_hash,
    )
