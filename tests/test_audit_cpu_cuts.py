"""The audit's CPU cuts change no finding: a fixed corpus audited with them and with the code
they replaced (every candidate record parsed on the way to it, the refusal patterns' scan on
every head) gives the same flags and report sections."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import million_synth

from credo.audit import engine
from credo.audit.options import AuditOptions
from credo.audit.runner import audit_corpus
from credo.corpora.io import read_records
from credo.filters import patterns


def _old_fetch(self: engine.Reread, positions: Any) -> dict[int, Any]:
    wanted = set(positions)
    out = {}
    for index, record in enumerate(read_records(self.source)):
        if index in wanted:
            out[index] = record
    return out


def _audit(corpus: Path) -> tuple[list[dict[str, Any]], str]:
    options = AuditOptions(worldview="gramenism", use_embedding=False)
    result, _ = audit_corpus(corpus, options=options)
    return result.flags(), json.dumps(result.sections, sort_keys=True, default=str)


@pytest.mark.slow
def test_same_findings_with_and_without_the_cuts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    million_synth.write_corpus(3000, tmp_path, seed=3)  # refusals, copies, eval copies planted
    after = _audit(tmp_path)
    monkeypatch.setattr(engine.Reread, "fetch", _old_fetch)
    monkeypatch.setattr(patterns, "_possible", lambda head: patterns._ALL)
    before = _audit(tmp_path)
    assert after == before
    checks = {c for entry in after[0] for c in entry["checks"]}
    assert {"refusal", "near_duplicate", "eval_contamination"} <= checks  # they had work to do
