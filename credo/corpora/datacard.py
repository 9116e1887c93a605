"""What a published card says about how a corpus was made and audited, as plain facts.

:func:`made_and_audited` reads a corpus folder's manifest and the audit of its current
records (see :mod:`credo.corpora.certificate`) into a JSON-able dict: teacher and sampling,
templates, persona handling, truncation, every check with its figure and threshold, the
detectors' versions and the leakage verdict (:mod:`credo.corpora.novelty`). The Hub card renders it
(:mod:`credo.corpora.hub`); a mix keeps its parts' facts in its manifest, taken when it was
mixed, so the card of a mix describes each part even after the parts have moved.

Nothing here names a path of the machine: folders appear by their last name only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from credo.corpora.certificate import Certificate, audit_report, read_report
from credo.corpora.io import read_manifest, records_path
from credo.corpora.novelty import describe, find_verdict
from credo.errors import CorpusError

# Persona handling is a fixed property of `credo generate` (see credo.generators.jobs).
PERSONA_HANDLING = (
    "each record's teacher call had one persona system prompt, drawn from the seed; the "
    "system prompt is not saved, only its id (meta.persona_id)"
)


def made_and_audited(corpus_dir: Path, cert: Certificate) -> dict[str, Any]:
    """The facts a card states about the corpus at ``corpus_dir`` (see module doc)."""
    try:
        folder = records_path(corpus_dir).parent
        report = audit_report(folder)
    except CorpusError:  # no records yet (a batch run still out): nothing audited
        folder, report = Path(corpus_dir), None
    manifest = read_manifest(folder) if (folder / "manifest.json").is_file() else {}
    generation = manifest
    if manifest.get("kind") == "filtered_corpus":
        generation = (manifest.get("source") or {}).get("manifest") or {}
    audit_scope = "these records"
    if report is None and manifest.get("kind") == "filtered_corpus":
        report = read_report(folder / "audit" / "report.json")  # the source, before filtering
        audit_scope = "the source corpus, before `credo filter` removed the flagged records"
    facts = _generation(generation)
    spec_hash = (facts or {}).get("spec_hash")
    return {
        "name": folder.name,
        "kind": manifest.get("kind") or "corpus",
        "generation": facts,
        "filter": _filter(manifest),
        "certificate": cert.to_json(),
        "audit": _audit(report, audit_scope),
        # the worldview's novelty against pretraining-like text (`credo leakage`), if checked
        "leakage": describe(find_verdict(spec_hash, folder), cert.records_hash)
        if spec_hash
        else "not applicable (imported records: no worldview spec recorded)",
    }


# An absolute POSIX path of two or more parts ("/tmp/x/corpus", "/home/ana/specs/g"), not a
# fraction or a URL ("1/2", "https://...", "text/plain").
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+-]+/)+[\w.@+-]*")


def scrub_paths(text: str, folders: list[Path]) -> str:
    """``text`` with every path of this machine replaced: a known folder by its last name,
    any other absolute path by its last part, the bare home folder by ``~``."""
    for folder in folders:
        for form in {str(folder.resolve()), str(folder.absolute())}:
            text = text.replace(form, folder.name)
    text = _ABSOLUTE.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1] or "/", text)
    return text.replace(str(Path.home()), "~")


def _generation(manifest: dict[str, Any]) -> dict[str, Any] | None:
    identity = manifest.get("identity")
    if not isinstance(identity, dict):
        return None  # not made by `credo generate` (imported records): nothing to state
    source, counts = manifest.get("source") or {}, manifest.get("counts") or {}
    params = identity.get("params") or {}
    return {
        "teacher": identity.get("model"),
        "set": identity.get("set"),
        "set_kind": source.get("kind"),
        "spec_hash": identity.get("spec_hash"),
        "temperature": params.get("temperature"),
        "max_tokens": params.get("max_tokens"),
        "top_p": params.get("top_p"),
        "samples": identity.get("samples"),
        "seed": identity.get("seed"),
        "prompts": source.get("prompts"),
        "templates": source.get("template_hashes") or {},
        "personas": source.get("personas") or [],
        "persona_handling": PERSONA_HANDLING,
        "records": counts.get("records"),
        "teacher_refusals": counts.get("teacher_refusals"),
        "truncated": counts.get("truncated"),
        "truncated_by_set": manifest.get("truncated_by_set") or {},
        "credo_version": (manifest.get("provenance") or {}).get("credo_version"),
    }


def _filter(manifest: dict[str, Any]) -> dict[str, Any] | None:
    if manifest.get("kind") != "filtered_corpus":
        return None
    counts = manifest.get("counts") or {}
    return {
        "input": counts.get("input"),
        "kept": counts.get("kept"),
        "removed": counts.get("removed"),
        "removed_by": {
            f["name"]: f["removed"] for f in manifest.get("filters") or [] if f.get("removed")
        },
    }


def _audit(report: dict[str, Any] | None, scope: str) -> dict[str, Any] | None:
    if report is None:
        return None
    sections = report.get("sections") or {}
    checks = []
    for check in report.get("checks") or []:
        params = check.get("params") or {}
        checks.append(
            {
                "name": check.get("name"),
                "gate": bool(check.get("gate")),
                "flagged": check.get("flagged"),
                "blocking": check.get("blocking", 0),
                "threshold": _threshold(check, params),
                "result": _result(check),
            }
        )
    return {
        "scope": scope,
        "records": report.get("records"),
        "passed": report.get("passed"),
        "gate_failures": report.get("gate_failures") or {},
        "checks": checks,
        "detectors": {
            c["name"]: _detector(c.get("params") or {})
            for c in report.get("checks") or []
            if c.get("name") in ("refusal", "fidelity", "forbidden_request", "moral_reason")
        },
        "truncation": sections.get("truncation"),
    }


def _threshold(check: dict[str, Any], params: dict[str, Any]) -> str:
    if not check.get("gate"):
        return "report only"
    config = params.get("config")
    rate = params.get("max_rate")
    if rate is None and isinstance(config, str) and "_max" in config:
        rate = config.rsplit("_max", 1)[1]  # fidelity's config name ends in _max<rate>
    if rate is not None and float(rate) > 0:
        return f"at most {float(rate):.0%} of a set"
    return "0 records"


def _result(check: dict[str, Any]) -> str:
    if not check.get("gate"):
        return "diagnostic"
    return "FAILED" if check.get("blocking") else "passed"


def _detector(params: dict[str, Any]) -> str:
    """A detector's version: its configuration name, plus the judge model where one was used."""
    parts = [str(params.get("config") or params.get("version") or "offline")]
    if params.get("judge"):
        parts.append(f"judge {params['judge']}")
    return ", ".join(parts)
