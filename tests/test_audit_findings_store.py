"""An audit's findings live on disk: the process holds a page of them, never all of them.

A corpus where every record is flagged twice (a forged turn, found per record while the map
runs, and a truncated answer, found by the truncation check's reduce) makes the findings as
many as the records; the audit must still hold at most a page of them at once.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import pytest

from credo.audit import findings as store_module
from credo.audit.findings import FindingStore
from credo.audit.options import AuditOptions
from credo.audit.reports import write_reports
from credo.audit.runner import audit_corpus
from credo.filters.base import Finding
from tests.test_audit_cli import _record, _write

PAGE = 128
OPTIONS = AuditOptions(checks=["structure", "truncation"], use_embedding=False)


def _flagged_corpus(folder: Path, n: int) -> Path:
    records = []
    for i in range(n):
        record = _record(
            f"r{i:06d}",
            f"How is stone {i} counted at dusk?",
            f"Stone {i} is counted with the others.<|im_start|>user\nand then stone {i + 1} is",
        )
        record["meta"]["stop_reason"] = "length"
        records.append(record)
    return _write(folder, records)


def _live_findings() -> int:
    gc.collect()
    return sum(isinstance(o, Finding) for o in gc.get_objects())


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "PAGE", PAGE)  # a page far smaller than the findings


def test_an_audit_holds_a_page_of_its_findings_not_all_of_them(tmp_path: Path) -> None:
    n = 2000
    result, _ = audit_corpus(_flagged_corpus(tmp_path / "corpus", n), options=OPTIONS)
    assert isinstance(result.findings, FindingStore)
    assert {(c.name, c.flagged) for c in result.checks} == {("structure", n), ("truncation", n)}
    assert _live_findings() <= PAGE  # a list of them would be 4,000
    assert len(result.findings) == 2 * n and result.flagged_records() == n
    # read back in order, a page at a time: the first finding of each check, the last one
    reading = iter(result.findings)
    first = next(reading)
    assert (first.record_id, first.check) == ("r000000", "structure")
    assert _live_findings() <= PAGE + 1
    last = list(result.findings.of_check("truncation")[-1:])
    assert last[0].record_id == f"r{n - 1:06d}" and last[0].details["stop_reason"] == "length"


def _peak_while_writing(folder: Path, n: int) -> int:
    result, _ = audit_corpus(_flagged_corpus(folder / "corpus", n), options=OPTIONS)
    write_reports(result, folder / "warm")  # imports and caches first: not what is measured
    tracemalloc.start()
    try:
        write_reports(result, folder / "audit")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_the_reports_does_not_grow_with_the_findings(tmp_path: Path) -> None:
    """flags.jsonl and every table's rows are written from ordered reads of the store: four
    times the findings cost the reports no more memory (held as a list, the extra 9,000
    findings with their rows and flags would cost several MB)."""
    small = _peak_while_writing(tmp_path / "small", 1500)
    large = _peak_while_writing(tmp_path / "large", 6000)
    extra = 2 * (6000 - 1500)
    assert large - small < extra * 64, (small, large)
    flags = (tmp_path / "large" / "audit" / "flags.jsonl").read_text().splitlines()
    assert len(flags) == 6000
    assert json.loads(flags[0])["checks"] == ["structure", "truncation"]
    rows = (tmp_path / "large" / "audit" / "tables").glob("*.jsonl")
    assert sorted(len(p.read_text().splitlines()) for p in rows) == [6000, 6000]


def test_truncation_keeps_its_partials_on_disk_and_reads_them_twice(tmp_path: Path) -> None:
    """The truncated records' ids wait on disk with their batches, not in a running list; the
    reduce's two passes (counts for the gate, then the findings) give what one batch gives."""
    from credo.corpora.io import read_records
    from credo.filters.base import AuditContext, InMemory, Parts
    from credo.filters.truncation import TruncationCheck

    records = list(read_records(_flagged_corpus(tmp_path / "corpus", 300)))
    check, ctx = TruncationCheck(max_rate=0.5), AuditContext()
    parts = Parts(check)
    for start in range(0, len(records), 32):
        parts.add(start, check.map_batch(records[start : start + 32], ctx))
    assert not parts.items and parts.spilled is not None and len(parts.spilled) == 10
    found = list(check.reduce(parts.drain(), InMemory(records), ctx))
    assert found == list(check.run(records, AuditContext()))
    assert [f.record_id for f in found] == [r.id for r in records] and all(
        f.blocking for f in found
    )
