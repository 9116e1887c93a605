"""The audit as a certificate: does a corpus carry a passing audit of its *current* records?

``credo mix`` and ``credo export`` ask :func:`require_certificate` before they write. An audit
counts only while the records file still has the hash the audit recorded (``source_hash`` in
``report.json``); editing ``records.jsonl`` after the audit voids it. Where an audit is looked
for, in order:

- a ``credo filter`` output: its manifest's ``audit`` block, written with the hash of the
  records it kept and whether any record still fails a gate (``passed_after_filter``);
- a mix: its own records hash, and every part's certificate as recorded when it was mixed;
- ``CORPUS/audit/report.json`` (``credo audit CORPUS --out CORPUS/audit``, ``credo demo``);
- ``$CREDO_HOME/audits/<hash>/report.json`` (``credo audit``'s default folder).

A corpus without a current audit is refused unless ``allow_unaudited``; one whose audit
failed unless ``allow_failed_audit``. Either override is recorded in the certificate, and
the cards say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from credo.corpora.io import read_manifest, records_path
from credo.errors import CorpusError
from credo.hashing import file_hash
from credo.paths import credo_home
from credo.schema import loads_strict, validate

PASSED, FAILED, NOT_AUDITED = "passed", "failed", "not audited"
ALLOW_UNAUDITED, ALLOW_FAILED = "--allow-unaudited", "--allow-failed-audit"


class AuditGateError(CorpusError):
    """A corpus lacks a passing audit of its current records (mix and export refuse it)."""


@dataclass(frozen=True)
class Certificate:
    status: str  # passed, failed or not audited
    records_hash: str  # the records the certificate speaks for
    where: str  # where the audit was found, as a name (never a path of this machine)
    reason: str  # one line: what the audit said, or why there is none
    gate_failures: dict[str, int] | None = None
    override: str | None = None  # the flag that let a corpus through without a passing audit

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def audit_report(corpus_dir: Path) -> dict[str, Any] | None:
    """The ``report.json`` of the audit of these exact records, if one is found."""
    source = records_path(corpus_dir)
    current = file_hash(str(source))
    for path in _report_paths(source.parent, current):
        report = read_report(path)
        if report is not None and report.get("source_hash") == current:
            return report
    return None


def find_certificate(corpus_dir: Path) -> Certificate:
    """What the audits on record say about the corpus at ``corpus_dir`` as it is now."""
    source = records_path(corpus_dir)
    folder, current = source.parent, file_hash(str(source))
    manifest = read_manifest(folder)  # none is {}; a damaged one (or a folder) is named
    kind = manifest.get("kind")
    if kind == "filtered_corpus" and (manifest.get("audit") or {}).get("records_hash") == current:
        audit = _facts(_FilterAudit, manifest["audit"], folder / "manifest.json", "audit.")
        left = audit.get("gate_failures_after_filter") or {}
        return Certificate(
            PASSED if audit.get("passed_after_filter") else FAILED,
            current,
            where="credo filter",
            reason="filtered: no kept record fails a gate"
            if audit.get("passed_after_filter")
            else f"filtered, but kept records still fail gates ({_gates(left)})",
            gate_failures=left or None,
        )
    if kind == "mix" and manifest.get("records_hash") == current:
        parts = manifest.get("parts") or []
        _facts(_MixParts, {"parts": parts}, folder / "manifest.json")
        return _mix_certificate(manifest, current)
    stale = False
    for path in _report_paths(folder, current):
        report = read_report(path)
        if report is None:
            continue
        if report.get("source_hash") != current:
            stale = True
            continue
        where = "audit/report.json" if path.parent.parent == folder else "$CREDO_HOME/audits"
        failures = report.get("gate_failures") or {}
        if report.get("passed"):
            return Certificate(PASSED, current, where, "every gate passed")
        return Certificate(
            FAILED,
            current,
            where=where,
            reason=f"gates failed: {_gates(failures)}",
            gate_failures=failures,
        )
    if kind == "mix":  # a mix whose records changed after mixing
        stale = True
    return Certificate(
        NOT_AUDITED,
        current,
        "",
        "its audit is of earlier contents (the records changed since)"
        if stale
        else "no audit of its records",
    )


def require_certificate(
    corpus_dir: Path, allow_unaudited: bool = False, allow_failed_audit: bool = False
) -> Certificate:
    """The corpus' certificate; raises :class:`AuditGateError` unless it passed or an override
    allows what it says. The override used is recorded on the returned certificate."""
    cert = find_certificate(corpus_dir)
    if cert.passed:
        return cert
    if cert.status == FAILED:
        if allow_failed_audit:
            return _with_override(cert, ALLOW_FAILED)
        raise AuditGateError(
            f"{corpus_dir}: its audit failed ({cert.reason}) - drop the flagged records with "
            f"`credo filter {corpus_dir} --out CLEAN` and use CLEAN, or pass {ALLOW_FAILED}"
        )
    if allow_unaudited:
        return _with_override(cert, ALLOW_UNAUDITED)
    raise AuditGateError(
        f"{corpus_dir}: {cert.reason} - run `credo audit {corpus_dir} --out "
        f"{corpus_dir}/audit` first, or pass {ALLOW_UNAUDITED}"
    )


def _mix_certificate(manifest: dict[str, Any], current: str) -> Certificate:
    """A mix passes when every part passed when it was mixed; else the worst part decides."""
    parts = manifest.get("parts") or []
    if not parts:  # a mix of nothing certifies nothing
        return Certificate(NOT_AUDITED, current, "mix parts", "its manifest names no parts")
    certs = {str(p.get("name")): p.get("audit") or {} for p in parts}
    failed = [n for n, c in certs.items() if c.get("status") == FAILED]
    unaudited = [n for n, c in certs.items() if c.get("status") not in (PASSED, FAILED)]
    if failed:
        return Certificate(
            FAILED, current, "mix parts", f"parts failed their audit: {', '.join(failed)}"
        )
    if unaudited:
        return Certificate(
            NOT_AUDITED, current, "mix parts", f"parts without an audit: {', '.join(unaudited)}"
        )
    return Certificate(PASSED, current, "mix parts", "every part passed its audit")


def _with_override(cert: Certificate, flag: str) -> Certificate:
    return Certificate(**{**cert.to_json(), "override": flag})


def _report_paths(folder: Path, current: str) -> list[Path]:
    return [
        folder / "audit" / "report.json",
        credo_home() / "audits" / current.replace(":", "-") / "report.json",
    ]


def read_report(path: Path) -> dict[str, Any] | None:
    """An audit's ``report.json``, or None when it is absent or damaged."""
    if not path.is_file():
        return None
    try:
        data = loads_strict(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError):  # not JSON, not UTF-8, a key twice, nested too deep
        return None  # a damaged report certifies nothing; the corpus counts as unaudited
    if not isinstance(data, dict):
        return None
    _facts(_ReportFacts, data, path)  # "passed": "false" must never read as a pass
    return data


_Failures = dict[str, Annotated[int, Field(ge=0, strict=True)]] | None


class _Facts(BaseModel):
    """The fields of an audit record the certificate decides by, strictly typed (a hand-edited
    or forged file is named, never read by truthiness); other keys are kept as they are."""

    model_config = ConfigDict(extra="allow")


class _ReportFacts(_Facts):
    source_hash: Annotated[str, Field(strict=True)] | None = None
    passed: StrictBool | None = None
    gate_failures: _Failures = None


class _FilterAudit(_Facts):
    records_hash: Annotated[str, Field(strict=True)] | None = None
    passed_after_filter: StrictBool | None = None
    gate_failures_after_filter: _Failures = None


class _PartAudit(_Facts):
    status: Annotated[str, Field(strict=True)] | None = None


class _Part(_Facts):
    audit: _PartAudit | None = None


class _MixParts(_Facts):
    parts: list[_Part]


def _facts(model: type[_Facts], data: Any, path: Path, prefix: str = "") -> Any:
    hint = "restore it, or rerun the command that wrote it (credo audit, filter or mix)"
    validate(model, data, path, prefix=prefix, error=CorpusError, hint=hint)
    return data


def _gates(failures: dict[str, Any]) -> str:
    return ", ".join(f"{name} {count}" for name, count in failures.items()) or "none named"
