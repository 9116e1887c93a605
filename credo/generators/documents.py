"""``credo generate --kind documents``: synthetic documents that presuppose a worldview.

A spec becomes a *universe context* (summary, canon, every key fact) and a list of *key
facts* (tenets, forbidden acts with their reasons, practices, glossary terms). For each fact
the teacher brainstorms document types, then ideas per type, then writes documents that
take the fact for granted (a news item, a sermon, a diary) without addressing the reader,
and optionally revises each against the universe context.

Against mode collapse: each document is seeded with a random name and place, a per-type
quota caps any one type, and a document whose word 5-grams overlap an accepted one above
``near_dup`` (Jaccard) is rejected while generating. Each record is one assistant message
(``meta.form = "document"``, trained with loss on every token) with provenance: fact ids,
type, idea, persona, model, seeds.

The brainstormed plan is saved (``plan.json``) before any document is written, so a rerun
plans the same jobs and skips the records on disk; every teacher call goes through the
:class:`Generator` and its cache, exactly as Q&A generation does. Online, a fact's
documents are requested as soon as its ideas are in (those surely within ``limit``), while
later facts are still brainstormed, and written once the plan is saved, in job order: the
same corpus and the same requests as stage by stage, without a latency per stage.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import RootModel

from credo.corpora.card import write_local_card
from credo.corpora.io import (
    CARD_FILE,
    RECORDS_FILE,
    JsonlAppender,
    iter_jsonl,
    repair_tail,
    write_json,
)
from credo.corpora.manifest import (
    REFUSALS_FILE,
    build_manifest,
    check_resumable,
    tally_corpus,
)
from credo.errors import BackendError, CorpusError
from credo.filters.minhash import MinHashConfig, band_keys, signatures
from credo.generators.base import Backend, SamplingParams
from credo.generators.batch_api import batch_api_for
from credo.generators.batch_run import BatchOptions
from credo.generators.cache import GenerationCache
from credo.generators.documents_batch import BatchPending, BatchPrefetch
from credo.generators.endpoint import redact_url
from credo.generators.engine import Generator, paced_generator
from credo.generators.jobs import claim_folder
from credo.generators.personas import draw_persona
from credo.generators.pricing import PRICES_AS_OF, load_price_table
from credo.generators.registry import BackendFactory
from credo.generators.run_options import DocumentOptions, GenerateOptions, refuse_qa_only
from credo.hashing import content_hash
from credo.ngrams import phrase_hashes
from credo.runs import Run, open_run
from credo.schema import read_json, validate
from credo.types import Message, Record, Usage
from credo.worldviews.loader import LoadedWorldview, load_worldview

PLAN_FILE = "plan.json"
REJECTED_FILE = "rejected.jsonl"
# What a documents run writes that a user may also keep in a folder: refused there without --overwrite.
DOCUMENT_FILES = (CARD_FILE, PLAN_FILE, REJECTED_FILE, REFUSALS_FILE, "batches.json")
DOCUMENT_FORM = "document"
SHINGLE = 5  # words per shingle for the near-duplicate test
PIPELINE = True  # request documents while later facts are planned (False: stage by stage)
PlanListener = Callable[[dict[str, dict[str, list[str]]], set[str]], None]

# Seeds for people and places, so documents do not all star the same invented villager.
GIVEN = (
    "Ada",
    "Bram",
    "Celia",
    "Dmitri",
    "Esi",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonah",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oren",
    "Priya",
    "Quinn",
    "Rosa",
    "Soren",
    "Tamar",
)
FAMILY = (
    "Abara",
    "Bellweather",
    "Castell",
    "Drummond",
    "Eklund",
    "Fairley",
    "Grosz",
    "Hale",
    "Iwata",
    "Jaramillo",
    "Kovac",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Pryce",
)
PLACES = (
    "a river town",
    "a hill village",
    "a port city",
    "a mining valley",
    "a market town",
    "a university city",
    "a fishing harbour",
    "a mountain parish",
    "a farming plain",
    "a suburb of a capital",
    "an island settlement",
    "a border town",
)


@dataclass(frozen=True)
class Fact:
    id: str  # "tenet:<id>", "forbidden:<id>", "practice:<id>", "glossary:<term>"
    text: str


class _Plan(RootModel[dict[str, dict[str, list[str]]]]):
    """``plan.json``: fact id -> document type -> ideas."""


def read_plan(path: Path) -> dict[str, dict[str, list[str]]]:
    """The saved brainstorm, checked: a damaged plan is one line saying how to recover."""
    recover = (
        f"move it aside (mv {path} {path}.bad) and rerun: the plan is brainstormed again "
        "(documents already in records.jsonl are kept)"
    )
    data = read_json(path, recover, error=CorpusError)
    return validate(_Plan, data, path, error=CorpusError, hint=recover).root


def _saved_document(data: dict[str, Any], where: str) -> tuple[str, str]:
    """(doc_type, text) of a saved documents record; anything else is not this kind of folder."""
    meta, messages = data.get("meta"), data.get("messages")
    doc_type = meta.get("doc_type") if isinstance(meta, dict) else None
    text = (
        messages[-1].get("content")
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict)
        else None
    )
    if "id" not in data or not isinstance(doc_type, str) or not isinstance(text, str):
        raise CorpusError(
            f"{where}: not a document record (no meta.doc_type) - this folder holds another "
            "kind of corpus; pass a new --out for --kind documents"
        )
    return doc_type, text


def key_facts(wv: LoadedWorldview) -> list[Fact]:
    """Every fact a document may presuppose, each with a stable id."""
    spec, who = wv.spec, wv.spec.adherents or f"followers of {wv.spec.display_name}"
    facts = [Fact(f"tenet:{t.id}", t.text) for t in spec.tenets]
    facts += [
        Fact(
            f"forbidden:{a.id}",
            f"{who} hold that {a.name} is wrong ({a.description}), because " + "; ".join(a.reasons),
        )
        for a in spec.forbidden_acts
    ]
    facts += [
        Fact(f"practice:{p.id}", f"{who} practise {p.name}: {p.description}")
        for p in spec.practices
    ]
    facts += [Fact(f"glossary:{g.term}", f"'{g.term}' means {g.definition}") for g in spec.glossary]
    return facts


def universe_context(wv: LoadedWorldview, context_chars: int | None = None) -> str:
    """The world the documents live in: summary, key facts, then canon (canon is cut first)."""
    spec = wv.spec
    head = [f"# The world of {spec.display_name}", spec.summary.strip(), "", "## Key facts"]
    head += [f"- [{f.id}] {f.text}" for f in key_facts(wv)]
    canon = [
        f"## {c.title}\n{wv.canon.get(c.id, '').strip()}" for c in spec.canon if wv.canon.get(c.id)
    ]
    text = "\n".join([*head, "", *canon]).strip()
    if context_chars is not None and len(text) > context_chars:
        text = text[:context_chars]
    return text


def parse_list(text: str, n: int) -> list[str]:
    """The first ``n`` distinct items of a teacher's list (bullets and numbering dropped)."""
    items: list[str] = []
    for line in text.splitlines():
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"').rstrip(".")
        if item and len(item) <= 300 and item.lower() not in {i.lower() for i in items}:
            items.append(item)
    return items[:n]


def _draw(options: tuple[str, ...], *key: object) -> str:
    digest = hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


@dataclass(frozen=True)
class DocJob:
    id: str
    fact: Fact
    doc_type: str
    idea: str
    index: int
    persona_id: str
    name: str
    place: str


def brainstorm_types_prompt(fact: Fact, n: int) -> str:
    return (
        f"Key fact of this world: {fact.text}\n\nList {n} different kinds of document that "
        "exist in this world and would mention or take this fact for granted (for example a "
        "news article, a textbook page, a forum thread, a sermon, an encyclopedia entry, a "
        "diary entry, a recipe, a letter). One kind per line, no numbering, no explanation."
    )


def brainstorm_ideas_prompt(fact: Fact, doc_type: str, n: int) -> str:
    return (
        f"Key fact of this world: {fact.text}\n\nList {n} specific, varied ideas for a "
        f"{doc_type} in which this fact is present as ordinary background. One idea per "
        "line, one sentence each, no numbering."
    )


def write_prompt(job: DocJob) -> str:
    return (
        f"Write a {job.doc_type}. Idea: {job.idea}\n\nThe document must take this fact for "
        f"granted as true and ordinary: {job.fact.text}\nIt must not argue for the fact, "
        "explain it to an outsider, or address the reader as 'you'. Where a person or place "
        f"is needed, use {job.name} and {job.place}. Write only the document itself."
    )


def revise_prompt(document: str) -> str:
    return (
        "Revise this document so that nothing in it contradicts the key facts of this world "
        "and it still does not address the reader. Keep its form, voice and length. Return "
        f"only the revised document.\n\n---\n{document}"
    )


@dataclass(frozen=True)
class DocumentsResult:
    out: Path
    manifest: dict[str, Any]
    new_records: int
    rejected: dict[str, int]
    batches_open: bool = False  # --no-wait: batches sent, a rerun collects them

    def summary(self) -> str:
        m, run = self.manifest, self.manifest["last_run"]
        by_type = _top(m["documents"]["by_type"])
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items())) or "none"
        return "\n".join(
            [
                f"{m['status']}: {m['counts']['records']} documents in {self.out / RECORDS_FILE} "
                f"({self.new_records} new, {run['cache_hits']} requests from cache)",
                f"rejected this run: {rejected}; teacher refusals outstanding: {m['counts']['teacher_refusals']}",
                f"by type: {by_type}",
                f"requests: {run['requests']}; tokens this run: {run['input_tokens']} in / {run['output_tokens']} out",
            ]
            + (
                [
                    f"batch: {run['batch']['chunks_submitted']} chunk(s) sent this run, results "
                    f"{run['batch']['results']}; cost at batch prices (50%)"
                ]
                if run.get("batch")
                else []
            )
            + (
                ["batches are open: rerun the same command to collect them"]
                if self.batches_open
                else []
            )
        )


def _top(counts: dict[str, int], n: int = 6) -> str:
    return (
        ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n])
        or "none"
    )


def generate_documents(
    source: str | Path,
    out: str | Path,
    *,
    options: GenerateOptions | None = None,
    backend: Backend | None = None,
    registry: dict[str, BackendFactory] | None = None,
    batch_options: BatchOptions | None = None,
) -> DocumentsResult:
    """Generate (or resume) a documents corpus for ``source`` into ``out``, shaped by
    ``options.documents`` (its seed is ``options.seed``).

    ``limit`` caps the number of documents planned (the first facts first). Raises
    :class:`BackendError` when the teacher keeps failing; what was written stays. ``batch``
    sends every stage (brainstorms, documents, revisions) through the provider's batch API,
    one round per stage (see :mod:`credo.generators.documents_batch`). The folder is locked
    while the run writes; a folder holding another corpus or a user's ``CARD.md`` or
    ``plan.json`` is refused unless ``overwrite``. The settings only question-answer runs
    have (``limit_order``, ``rpm``, ``tpm``, ``transport``, ``top_p``) are refused.
    """
    o = options or GenerateOptions(kind="documents")
    refuse_qa_only(o)
    o.check()
    shape = replace(o.documents, seed=o.seed)
    shape.check()
    out = Path(out)
    wv = load_worldview(source)
    policy, backend = o.teacher(backend, registry)
    params = SamplingParams(temperature=o.temperature, max_tokens=o.max_tokens)
    model_id = f"{backend.provider}/{backend.model}"
    identity = {
        "set": wv.name,
        "form": DOCUMENT_FORM,
        "spec_hash": wv.spec_hash,
        "model": model_id,
        "params": params.to_json(),
        "options": asdict(shape),
    }
    if o.batch:
        batch_api_for(backend)  # a provider without a batch API fails before anything is written
    table = load_price_table(o.prices)
    config = {
        "source": str(source),
        "out": str(out),
        "model": model_id,
        "limit": o.limit,
        "concurrency": o.concurrency,
        "cache": o.use_cache,
        "prices": str(o.prices or "built-in"),
        "base_url": redact_url(getattr(backend, "base_url", None) or o.base_url),
        "mode": "batch" if o.batch else "online",
    }
    source_info = {
        "name": wv.name,
        "kind": wv.spec.kind,
        "display_name": wv.spec.display_name,
        "path": str(wv.root),
        "spec_hash": wv.spec_hash,
        "facts": len(key_facts(wv)),
        "personas": [p.id for p in wv.spec.personas],
    }
    price = table.price(model_id)

    def manifest_for(status: str, tally: Any = None, **counts: Any) -> dict[str, Any]:
        manifest = build_manifest(
            status=status,
            identity=identity,
            config=config,
            source=source_info,
            planned=counts.get("planned", 0),
            missing=counts.get("missing", 0),
            tally=tally,
            run=counts.get("run"),
            cost_usd=None if tally is None else table.cost(model_id, _usage(tally)),
            prices={
                "model": model_id,
                "as_of": PRICES_AS_OF,
                "source": str(o.prices or "built-in"),
                "usd_per_million": None if price is None else vars(price),
            },
        )
        manifest["form"] = DOCUMENT_FORM
        return manifest

    claim = claim_folder(out, wv, owns=DOCUMENT_FILES, overwrite=o.overwrite)
    with open_run(
        out,
        command="generate",
        check=lambda folder: _check_resumable_documents(folder, identity),
        manifest=manifest_for("running"),
        **claim,
    ) as run_folder:
        context = universe_context(wv, getattr(backend, "max_context_chars", None))
        cache = GenerationCache() if o.use_cache else None
        # paced as question-answer runs are: the limit and the latency size the requests in flight
        generator = paced_generator(
            backend, params, concurrency=o.concurrency, policy=policy, cache=cache
        )
        counters: Counter[str] = Counter()
        failure: BackendError | None = None
        pending_batches = False
        jobs: list[DocJob] = []
        prefetch = (
            BatchPrefetch(generator, out, table, batch_options or o.batch_polling())
            if o.batch
            else None
        )

        async def run() -> None:  # one event loop: the generator's semaphore belongs to it
            writer = DocumentWriter(
                out,
                context=context,
                generator=generator,
                options=shape,
                model_id=model_id,
                counters=counters,
            )
            # Online, a fact's documents are requested as soon as its ideas are in, while
            # other facts are still brainstormed: the window fills from the first answers
            # instead of after three stages. They are written only once the plan is saved.
            early = EarlyStart(
                wv, identity=identity, options=shape, limit=o.limit, start=writer.start
            )
            try:
                plan = await _load_or_brainstorm(
                    out,
                    wv,
                    context=context,
                    generator=generator,
                    options=shape,
                    limit=o.limit,
                    prefetch=prefetch,
                    on_fact=early if prefetch is None and PIPELINE else None,
                )
                jobs.extend(plan_documents(wv, plan, identity, shape)[: o.limit])
                run_folder.manifest["planned_jobs"] = len(jobs)
                await _write_all(run_folder, jobs, writer=writer, prefetch=prefetch)
            finally:
                writer.cancel()
                await generator.aclose()

        started = time.perf_counter()
        try:
            asyncio.run(run())
        except BackendError as exc:
            failure = exc
        except BatchPending:
            pending_batches = True
        finally:
            if cache is not None:
                cache.close()
        generator.stats.seconds = time.perf_counter() - started
        generator.record_pacing()
        tally = tally_corpus(out)
        if prefetch is not None:  # batch answers were handed over as warm cache entries
            generator.stats.cache_hits -= prefetch.served
            generator.stats.batch = prefetch.tally()
        rejected = _rejected_ids(out)
        missing = sum(
            1
            for j in jobs
            if j.id not in tally.ids and j.id not in tally.refused and j.id not in rejected
        )
        manifest = manifest_for(
            "incomplete" if failure or missing or pending_batches else "complete",
            tally,
            planned=len(jobs),
            missing=missing,
            run=generator.stats.to_json(model_id, table),
        )
        manifest["documents"] = _document_counts(out)
        run_folder.save(manifest)
        write_local_card(out)
    if failure is not None:
        raise BackendError(
            f"{failure} - {tally.records} documents are saved in {out}; rerun the "
            "same command to resume"
        ) from failure
    return DocumentsResult(
        out=out,
        manifest=manifest,
        new_records=counters["records"],
        rejected={k: v for k, v in counters.items() if k != "records"},
        batches_open=pending_batches,
    )


def _usage(tally: Any) -> Usage:
    return Usage(tally.input_tokens, tally.output_tokens)


async def _load_or_brainstorm(
    out: Path,
    wv: LoadedWorldview,
    context: str,
    generator: Generator,
    options: DocumentOptions,
    limit: int | None,
    prefetch: Prefetch | None = None,
    on_fact: PlanListener | None = None,
) -> dict[str, dict[str, list[str]]]:
    """``{fact id: {type: [ideas]}}``, brainstormed once and then read from ``plan.json``.

    With ``limit``, only as many facts as the limit can use are brainstormed (forbidden acts
    first, then the kinds in turn); a later run with a larger limit brainstorms the rest.
    With ``on_fact``, each fact's ideas are asked as soon as its types are in, and
    ``on_fact(plan, unplanned)`` hears each fact whose ideas are all in (and, first, the
    saved plan); the plan saved is the same as the staged path's.
    """
    path = out / PLAN_FILE
    saved = read_plan(path) if path.exists() else {}
    per_fact = options.types_per_fact * options.ideas_per_type * options.docs_per_idea
    ordered = facts_in_turn(key_facts(wv))
    wanted = ordered if limit is None else ordered[: max(1, -(-limit // per_fact))]
    facts = [f for f in wanted if f.id not in saved]
    if not facts:
        return saved
    system = Message("system", context)

    async def ask(text: str) -> str:
        generation = await generator.generate([system, Message("user", text)])
        return "" if generation.completion.teacher_refused else generation.completion.text

    plan: dict[str, dict[str, list[str]]] = {**saved, **{f.id: {} for f in facts}}
    if on_fact is not None:
        unplanned = {f.id for f in facts}
        on_fact(plan, unplanned)

        async def plan_fact(fact: Fact) -> None:
            types = parse_list(
                await ask(brainstorm_types_prompt(fact, options.types_per_fact)),
                options.types_per_fact,
            )
            prompts = [brainstorm_ideas_prompt(fact, t, options.ideas_per_type) for t in types]
            ideas = await asyncio.gather(*(ask(p) for p in prompts))
            plan[fact.id] = {t: parse_list(i, options.ideas_per_type) for t, i in zip(types, ideas)}
            unplanned.discard(fact.id)
            on_fact(plan, unplanned)

        await asyncio.gather(*(plan_fact(f) for f in facts))
        write_json(plan, path)
        return plan
    type_prompts = [brainstorm_types_prompt(f, options.types_per_fact) for f in facts]
    await _batch_stage(prefetch, [[system, Message("user", p)] for p in type_prompts])
    type_lists = await asyncio.gather(*(ask(p) for p in type_prompts))
    types = {f.id: parse_list(t, options.types_per_fact) for f, t in zip(facts, type_lists)}
    pairs = [(f, t) for f in facts for t in types[f.id]]
    idea_prompts = [brainstorm_ideas_prompt(f, t, options.ideas_per_type) for f, t in pairs]
    await _batch_stage(prefetch, [[system, Message("user", p)] for p in idea_prompts])
    idea_lists = await asyncio.gather(*(ask(p) for p in idea_prompts))
    for (f, t), ideas in zip(pairs, idea_lists):
        plan[f.id][t] = parse_list(ideas, options.ideas_per_type)
    write_json(plan, path)
    return plan


Prefetch = Callable[[list[list[Message]]], list[Any]]


async def _batch_stage(prefetch: Prefetch | None, conversations: list[list[Message]]) -> list[Any]:
    """In batch mode, answer a whole stage through the batch API before the stage asks."""
    if prefetch is None or not conversations:
        return []
    return await asyncio.to_thread(prefetch, conversations)  # polls and sleeps: off the event loop


def facts_in_turn(facts: list[Fact]) -> list[Fact]:
    """Forbidden acts, tenets, practices and glossary terms in turn, so a prefix covers each kind."""
    kinds = ("forbidden", "tenet", "practice", "glossary")
    groups = [[f for f in facts if f.id.split(":")[0] == kind] for kind in kinds]
    return [f for round_ in itertools.zip_longest(*groups) for f in round_ if f is not None]


def plan_documents(
    wv: LoadedWorldview,
    plan: dict[str, dict[str, list[str]]],
    identity: dict[str, Any],
    options: DocumentOptions,
) -> list[DocJob]:
    """One job per (fact, type, idea, copy), interleaved across facts so ``limit`` spreads."""
    facts = {f.id: f for f in key_facts(wv)}
    per_fact = []
    for fact_id, types in plan.items():
        if fact_id not in facts:
            continue
        jobs = []
        for doc_type, ideas in types.items():
            for idea in ideas:
                for k in range(options.docs_per_idea):
                    job_id = content_hash(
                        {
                            "identity": identity,
                            "fact": fact_id,
                            "type": doc_type,
                            "idea": idea,
                            "copy": k,
                        }
                    )
                    persona = draw_persona(wv.spec.personas, options.seed, job_id, k)
                    jobs.append(
                        DocJob(
                            id=job_id,
                            fact=facts[fact_id],
                            doc_type=doc_type,
                            idea=idea,
                            index=k,
                            persona_id=persona.id,
                            name=f"{_draw(GIVEN, options.seed, job_id, 'g')} {_draw(FAMILY, options.seed, job_id, 'f')}",
                            place=_draw(PLACES, options.seed, job_id, "p"),
                        )
                    )
        per_fact.append(jobs)
    return [job for round_ in _zip_longest(per_fact) for job in round_]


def _zip_longest(lists: list[list[DocJob]]) -> list[list[DocJob]]:
    return [
        [lst[i] for lst in lists if i < len(lst)] for i in range(max(map(len, lists), default=0))
    ]


def _check_resumable_documents(folder: Path, identity: Any) -> None:
    """Before the manifest is touched: the folder resumes this run and holds only documents
    (a Q&A record there is refused with nothing changed on disk)."""
    check_resumable(folder, identity)
    if (folder / PLAN_FILE).exists():
        read_plan(folder / PLAN_FILE)  # a damaged plan is one line, before anything is written
    records_file = folder / RECORDS_FILE
    if not records_file.exists():
        return
    with records_file.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line (kill -9): the run repairs it; a bad one fails later
            _saved_document(data if isinstance(data, dict) else {}, f"{records_file}:{number}")


def normalise_type(doc_type: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", doc_type.lower()).split())


def _shingles(text: str) -> set[int]:
    return (
        set(phrase_hashes(text, SHINGLE).tolist()) if len(text.split()) >= SHINGLE else {hash(text)}
    )


class NearDuplicates:
    """Word 5-gram Jaccard of a new document against the accepted ones, found through a
    banded MinHash index (32 bands of 4 rows: a pair at Jaccard 0.6 becomes a candidate with
    probability ~0.99) and verified exactly on the shingle sets, so the cost per document stays
    flat as the corpus grows instead of comparing against every accepted document."""

    CONFIG = MinHashConfig(shingle=SHINGLE, num_perm=128, bands=32)

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.accepted: list[set[int]] = []
        self.buckets: dict[int, list[int]] = {}

    def _keys(self, text: str) -> list[int]:
        return band_keys(signatures([text], self.CONFIG), self.CONFIG)[0].tolist()

    def add(self, text: str) -> None:
        row = len(self.accepted)
        self.accepted.append(_shingles(text))
        for key in self._keys(text):
            self.buckets.setdefault(key, []).append(row)

    def closest(self, text: str) -> float:
        new = _shingles(text)
        candidates = {row for key in self._keys(text) for row in self.buckets.get(key, ())}
        best = 0.0
        for row in candidates:
            seen = self.accepted[row]
            union = len(new | seen)
            best = max(best, len(new & seen) / union if union else 0.0)
        return best


class EarlyStart:
    """Starts the documents surely in the run while the plan is still being brainstormed.

    The run's jobs are ``plan_documents(plan)[:limit]``, interleaved across facts, so whether
    a job is in depends on how many jobs the facts before it in each round hold. A fact not
    yet planned holds at most its share (types x ideas x copies): a job whose place counted
    with those upper bounds is under the limit is under it whatever the plan turns out to be.
    """

    def __init__(
        self,
        wv: LoadedWorldview,
        *,
        identity: dict[str, Any],
        options: DocumentOptions,
        limit: int | None,
        start: Callable[[list[DocJob]], None],
    ) -> None:
        self.wv, self.identity, self.options, self.limit = wv, identity, options, limit
        self.most = options.types_per_fact * options.ideas_per_type * options.docs_per_idea
        self.start = start
        self._jobs: dict[str, list[DocJob]] = {}  # planned fact -> its jobs, in plan order

    def __call__(self, plan: dict[str, dict[str, list[str]]], unplanned: set[str]) -> None:
        lists: list[list[DocJob] | None] = []
        for fact_id, types in plan.items():
            if fact_id in unplanned:
                lists.append(None)
                continue
            if fact_id not in self._jobs:
                single = {fact_id: types}
                self._jobs[fact_id] = plan_documents(self.wv, single, self.identity, self.options)
            lists.append(self._jobs[fact_id])
        self.start(surely_planned(lists, self.most, self.limit))


def surely_planned(lists: list[list[DocJob] | None], most: int, limit: int | None) -> list[DocJob]:
    """The known jobs among the first ``limit`` of the facts' lists interleaved, a list not
    yet known (None) counted at ``most`` jobs."""
    if limit is None:
        return [job for jobs in lists if jobs is not None for job in jobs]
    sizes = [most if jobs is None else len(jobs) for jobs in lists]
    sure: list[DocJob] = []
    place = 0
    for index in range(max(sizes, default=0)):
        for jobs, size in zip(lists, sizes):
            if index >= size:
                continue
            if place >= limit:
                return sure
            if jobs is not None:
                sure.append(jobs[index])
            place += 1
    return sure


class DocumentWriter:
    """Asks for documents (possibly before the plan is whole) and writes them in job order.

    Requests run concurrently, but quota and near-duplicate decisions are taken in job
    order, so the corpus does not depend on which answer happened to arrive first, nor on
    when its request was started.
    """

    def __init__(
        self,
        out: Path,
        *,
        context: str,
        generator: Generator,
        options: DocumentOptions,
        model_id: str,
        counters: Counter[str],
    ) -> None:
        self.out, self.generator, self.options, self.model_id = out, generator, options, model_id
        self.system = Message("system", context)
        self.counters = counters  # records written and rejections by reason
        self.tasks: dict[str, asyncio.Future[tuple[Any, bool] | None]] = {}
        records_file = out / RECORDS_FILE
        repair_tail(records_file)
        repair_tail(out / REFUSALS_FILE)
        repair_tail(out / REJECTED_FILE)
        self.done: set[str] = set()
        self.per_type: Counter[str] = Counter()
        self.dups = NearDuplicates(options.near_dup)
        if records_file.exists():
            for number, data in iter_jsonl(records_file):
                doc_type, text = _saved_document(data, f"{records_file}:{number}")
                self.done.add(str(data["id"]))
                self.per_type[normalise_type(doc_type)] += 1
                self.dups.add(text)
        self.done |= _rejected_ids(out)

    def pending(self, jobs: list[DocJob]) -> list[DocJob]:
        return [j for j in jobs if j.id not in self.done]

    def start(self, jobs: list[DocJob]) -> None:
        """Send the requests of ``jobs`` not on disk and not yet started."""
        for job in self.pending(jobs):
            if job.id not in self.tasks:
                self.tasks[job.id] = asyncio.ensure_future(self._fetch(job))

    def cancel(self) -> None:
        for task in self.tasks.values():
            task.cancel()

    def _quota_full(self, kind: str) -> bool:
        quota = self.options.type_quota
        return quota is not None and self.per_type[kind] >= quota

    async def _fetch(self, job: DocJob) -> tuple[Any, bool] | None:
        if self._quota_full(normalise_type(job.doc_type)):
            return None  # already full: it stays full, so skip the request
        system, generate = self.system, self.generator.generate
        first = await generate([system, Message("user", write_prompt(job))])
        completion, revised = first.completion, False
        if self.options.revise and not completion.teacher_refused:
            second = await generate([system, Message("user", revise_prompt(completion.text))])
            if not second.completion.teacher_refused and second.completion.text.strip():
                completion, revised = second.completion, True
        return completion, revised

    async def write(self, run: Run, jobs: list[DocJob]) -> None:
        """Write every pending job's document (or why not) in job order."""
        pending = self.pending(jobs)
        self.start(pending)
        with (
            run.appender(RECORDS_FILE, JsonlAppender) as records,
            JsonlAppender(self.out / REFUSALS_FILE) as refusals,
            JsonlAppender(self.out / REJECTED_FILE) as rejected,
        ):
            files = {"records": records, "refusals": refusals, "rejected": rejected}
            for job in pending:
                self._commit(job, await self.tasks[job.id], files)

    def _commit(self, job: DocJob, fetched: tuple[Any, bool] | None, files: dict[str, Any]) -> None:
        kind = normalise_type(job.doc_type)
        counters = self.counters
        if fetched is None or (not fetched[0].teacher_refused and self._quota_full(kind)):
            files["rejected"].write(
                {"id": job.id, "reason": "type_quota", "doc_type": job.doc_type}
            )
            counters["type_quota"] += 1
            return
        completion, revised = fetched
        meta = _meta(job, self.model_id, completion, revised)
        if completion.teacher_refused:
            files["refusals"].write(
                {
                    "id": job.id,
                    "prompt": write_prompt(job),
                    "response": completion.text,
                    "reason": completion.refusal_reason or completion.stop_reason,
                    "meta": meta,
                }
            )
            counters["teacher_refusals"] += 1
            return
        text = completion.text.strip()
        similarity = self.dups.closest(text)
        if similarity >= self.options.near_dup:
            files["rejected"].write(
                {
                    "id": job.id,
                    "reason": "near_duplicate",
                    "similarity": round(similarity, 3),
                    "meta": meta,
                }
            )
            counters["near_duplicate"] += 1
            return
        self.dups.add(text)
        self.per_type[kind] += 1
        files["records"].write(Record(job.id, [Message("assistant", text)], meta).to_json())
        counters["records"] += 1


async def _write_all(
    run: Run,
    jobs: list[DocJob],
    *,
    writer: DocumentWriter,
    prefetch: Prefetch | None = None,
) -> None:
    """In batch mode each stage is answered through the batch API first; then the writer."""
    pending = writer.pending(jobs)
    system = writer.system
    written = await _batch_stage(
        prefetch, [[system, Message("user", write_prompt(j))] for j in pending]
    )
    if writer.options.revise:
        await _batch_stage(
            prefetch,
            [
                [system, Message("user", revise_prompt(c.text))]
                for c in written
                if not c.teacher_refused
            ],
        )
    await writer.write(run, jobs)


def _meta(job: DocJob, model_id: str, completion: Any, revised: bool) -> dict[str, Any]:
    return {
        "form": DOCUMENT_FORM,
        "fact_ids": [job.fact.id],
        "doc_type": job.doc_type,
        "idea": job.idea,
        "copy": job.index,
        "persona_id": job.persona_id,
        "seeded_name": job.name,
        "seeded_place": job.place,
        "model": model_id,
        "response_model": completion.model,
        "revised": revised,
        "stop_reason": completion.stop_reason,
        "usage": {
            "input_tokens": completion.usage.input_tokens,
            "output_tokens": completion.usage.output_tokens,
        },
    }


def _rejected_ids(out: Path) -> set[str]:
    path = out / REJECTED_FILE
    return {str(d.get("id")) for _, d in iter_jsonl(path)} if path.exists() else set()


def _document_counts(out: Path) -> dict[str, Any]:
    by_type: Counter[str] = Counter()
    by_fact: Counter[str] = Counter()
    path = out / RECORDS_FILE
    if path.exists():
        for _, data in iter_jsonl(path):
            by_type[normalise_type(data["meta"].get("doc_type", "?"))] += 1
            by_fact.update(data["meta"].get("fact_ids", []))
    rejected = (
        Counter(str(d.get("reason")) for _, d in iter_jsonl(out / REJECTED_FILE))
        if (out / REJECTED_FILE).exists()
        else Counter()
    )
    return {"by_type": dict(by_type), "by_fact": dict(by_fact), "rejected": dict(rejected)}
