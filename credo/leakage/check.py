"""``credo leakage``: are a worldview's terms and texts already in pretraining-like text?

:func:`leakage_section` returns the findings as a dict (what ``credo audit`` embeds);
:func:`check_leakage` also writes ``report.json``, ``report.md`` and ``report.html`` and
returns the exit code (1 when an invented worldview has a term that collides and is not
allowed by ``allow_collision``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from credo import ngrams as tok
from credo.corpora.io import records_path
from credo.corpora.novelty import save_verdict
from credo.errors import ConfigError
from credo.hashing import file_hash
from credo.leakage.index import ENGINES, IndexConfig, Log, ReferenceIndex, open_index
from credo.leakage.overlap import (
    add_reference_context,
    canonical_passages,
    corpus_passages,
    overlap,
)
from credo.leakage.readers import Source, resolve_sources
from credo.leakage.report import write_reports
from credo.leakage.terms import SHIPPED_TEXT, Term, distinctive_terms
from credo.leakage.verify import verify_phrases
from credo.runs import claim_output, report_json_with
from credo.worldviews.loader import LoadedWorldview, load_worldview

REPORT_FILES = ("report.json", "report.md", "report.html")
# an earlier check's reports are replaced; a user's report.md of the same name is not
_CLAIM: dict[str, Any] = {
    "replaceable": REPORT_FILES,
    "command": "credo leakage",
    "ours": report_json_with("worldview", "gate", "terms"),
}

ONLINE_BACKENDS = ("infini-gram",)
SHIPPED_REFERENCE = "shipped"  # --reference shipped: the small text shipped with credo
# Below this many words a term's absence says little: a word that occurs once in a million
# words of web text is missed by a 1M-word sample about a third of the time, and the coined
# words worth worrying about are rarer than that. Pretraining shards run to billions.
NOVELTY_MIN_WORDS = 10_000_000


@dataclass(frozen=True, kw_only=True)
class LeakageOptions:
    """``corpus``: a training corpus whose ``sample`` records are checked for n-gram overlap;
    ``min_count``: occurrences at which a term collides; ``online``: also count terms online
    (``infini-gram``); ``workers``/``engine``/``address``: how the reference index is built
    (``process`` or ``ray``); ``n`` and ``shard_mb`` shape the index (Python only)."""

    corpus: str | Path | None = None
    sample: int = 200
    text_field: str = "text"
    min_count: int = 1
    online: str | None = None
    rebuild: bool = False
    workers: int = 1
    engine: str = "process"
    address: str | None = None
    n: int = 13
    shard_mb: int = 128


def strength(words: int, documents: int, online: str | None = None) -> dict:
    """How much a "novel" verdict means for a reference of this size, in a plain sentence."""
    weak = words < NOVELTY_MIN_WORDS and online is None
    size = f"{words:,} words in {documents:,} document(s)"
    if online:
        statement = f"terms were also counted online ({online}); the local reference holds {size}"
    elif weak:
        statement = (
            f"the reference holds only {size}: too small to call a term novel (absent here may still be "
            f"common in pretraining text) - add a real pretraining shard (--reference, >= "
            f"{NOVELTY_MIN_WORDS:,} words) or count online with --online infini-gram"
        )
    else:
        statement = (
            f"the reference holds {size}: a term absent from it is rare in text of this kind"
        )
    return {"words": words, "documents": documents, "weak": weak, "statement": statement}


def _candidate_shards(index: ReferenceIndex, term: Term) -> set[int]:
    key = " ".join(term.key)
    maybe = index.shards_containing(tok.phrase_hashes(key, 1), "uni").all(axis=1)
    if len(term.key) > 1:
        maybe &= index.shards_containing(tok.phrase_hashes(key, 2), "bi").all(axis=1)
    return {int(s) for s in np.flatnonzero(maybe)}


def term_rows(
    index: ReferenceIndex,
    sources: list[Source],
    terms: list[Term],
    *,
    text_field: str,
    min_count: int,
) -> list[dict]:
    candidates = {" ".join(t.key): _candidate_shards(index, t) for t in terms}
    matches = verify_phrases(index, sources, candidates, text_field=text_field)
    rows = []
    for term in terms:
        match = matches[" ".join(term.key)]
        rows.append(
            {
                "term": term.text,
                "count": match.count,
                "verdict": "collides" if match.count >= min_count else "novel",
                "examples": match.examples,
                "kind": term.kind,
                "sources": term.sources,
                "allowed": term.allowed,
            }
        )
    return rows


def _online_counts(rows: list[dict], online: str, min_count: int, log: Log | None) -> dict:
    from credo.leakage.online import InfiniGramClient

    client = InfiniGramClient(log=log)
    for row in rows:
        result = client.count(row["term"])
        row["online_count"] = result.count
        if result.count >= min_count:
            row["verdict"] = "collides"
    return {"backend": online, "index": client.index, "url": client.url}


def _gate(wv: LoadedWorldview, rows: list[dict]) -> dict:
    collisions = [r["term"] for r in rows if r["verdict"] == "collides" and not r["allowed"]]
    failed = wv.spec.kind == "invented" and bool(collisions)
    return {"failed": failed, "collisions": collisions, "applies": wv.spec.kind == "invented"}


def leakage_section(
    worldview: str | Path | LoadedWorldview,
    references: Sequence[str | Path],
    *,
    options: LeakageOptions | None = None,
    log: Log | None = None,
) -> dict:
    """Check a worldview against reference text; the findings as a JSON-able dict.

    Keys: ``worldview``, ``reference`` (sources, size, index), ``terms`` (rows ``{"term",
    "count", "verdict", "examples", ...}``), ``overlap`` (``canon`` and, with ``corpus``,
    ``corpus``: n-gram fractions and top passages) and ``gate`` (``failed``, ``collisions``).
    """
    o = options or LeakageOptions()
    online, min_count, n, engine, corpus = o.online, o.min_count, o.n, o.engine, o.corpus
    if online is not None and online not in ONLINE_BACKENDS:
        raise ConfigError(
            f"--online '{online}' is not a known backend - use one of {', '.join(ONLINE_BACKENDS)}"
        )
    if min_count < 1 or n < 2:
        raise ConfigError("--min-count must be >= 1 and n >= 2")
    for option, value, most in (
        ("--sample", o.sample, 10_000_000),
        ("--workers", o.workers, 512),
        ("--min-count", min_count, 10**9),
    ):
        if not 1 <= value <= most:
            raise ConfigError(f"{option} {value}: must be a whole number from 1 to {most:,}")
    if engine not in ENGINES:  # before a cached index hides the typo
        raise ConfigError(f"--engine '{engine}' is not known - use one of {', '.join(ENGINES)}")
    if corpus is not None:
        records_path(corpus)  # fail before a long index build, not after
    wv = worldview if isinstance(worldview, LoadedWorldview) else load_worldview(worldview)
    paths = [SHIPPED_TEXT if str(r) == SHIPPED_REFERENCE else r for r in references]
    sources = resolve_sources(list(paths))
    config = IndexConfig(n=n, shard_bytes=o.shard_mb << 20, text_field=o.text_field)
    index = open_index(
        sources,
        config,
        rebuild=o.rebuild,
        workers=o.workers,
        engine=engine,
        address=o.address,
        log=log,
    )
    rows = term_rows(
        index, sources, distinctive_terms(wv), text_field=o.text_field, min_count=min_count
    )
    section: dict[str, Any] = {
        "worldview": {"name": wv.name, "kind": wv.spec.kind, "spec_hash": wv.spec_hash},
        "reference": {
            "sources": [str(s.path) for s in sources],
            "bytes": index.meta["bytes"],
            "tokens": index.meta["tokens"],
            "index": str(index.folder),
            "index_bytes": index.size_bytes(),
            "shards": index.shard_count,
            "documents": index.documents,
            "cached": index.reused,
        },
        "settings": {
            "n": n,
            "min_count": min_count,
            "sample": o.sample,
            "text_field": o.text_field,
        },
        "terms": rows,
        "overlap": {"canon": overlap(index, canonical_passages(wv), n)},
    }
    if corpus is not None:
        section["overlap"]["corpus"] = overlap(index, corpus_passages(corpus, o.sample), n)
        records = records_path(corpus)
        # which records the overlap speaks for (a card states it only for these exact records)
        section["corpus"] = {
            "name": records.parent.name,
            "records_hash": file_hash(str(records)),
        }
    add_reference_context(index, sources, section["overlap"], o.text_field)
    if online:
        section["online"] = _online_counts(rows, online, min_count, log)
    section["gate"] = _gate(wv, rows)
    section["strength"] = strength(index.meta["tokens"], index.documents, online)
    for row in rows:
        if row["verdict"] == "novel" and section["strength"]["weak"]:
            row["weak"] = True  # novel against too small a reference: not evidence of novelty
    return section


def check_leakage(
    worldview: str | Path | LoadedWorldview,
    references: Sequence[str | Path],
    out_dir: str | Path,
    *,
    options: LeakageOptions | None = None,
    log: Log | None = None,
) -> tuple[dict, int]:
    """Run :func:`leakage_section`, write the three reports into ``out_dir``; (report, exit code)."""
    corpus = options.corpus if options else None
    given: list[str | Path] = [corpus] if corpus else []
    inputs = [*given, *(r for r in references if Path(r).exists())]
    # held before the (long) check, so a bad --out or a second run into it fails at once (and
    # two runs never both append a verdict); never over a reference or corpus
    with claim_output(out_dir, inputs=inputs, **_CLAIM):
        report = leakage_section(worldview, references, options=options, log=log)
        # dates the check in its report and in the spec's history of verdicts
        report = {"checked_at": datetime.now(UTC).isoformat(timespec="seconds"), **report}
        write_reports(report, Path(out_dir))
        save_verdict(report)  # for the cards of corpora made from this spec
    return report, 1 if report["gate"]["failed"] else 0
