"""``generate_corpus``: a worldview or set -> ``records.jsonl`` + ``manifest.json`` + ``CARD.md``.

The run is split into named phases: plan the jobs, check the folder can be resumed, run
the pending jobs through the :class:`Generator`, then tally the folder and write the
manifest and card. Records are appended one line at a time and the ids already on disk are
skipped, so a run killed at any point (``kill -9`` included) resumes by rerunning the same
command, with nothing lost and nothing duplicated. Teacher refusals go to
``teacher_refusals.jsonl`` and are retried by the next run, never saved as records.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo.corpora.card import write_local_card
from credo.corpora.io import (
    CARD_FILE,
    RECORDS_FILE,
    JsonlAppender,
    iter_jsonl,
    repair_tail,
    repaired_record,
)
from credo.corpora.manifest import (
    REFUSALS_FILE,
    CorpusTally,
    build_manifest,
    check_resumable,
    tally_corpus,
)
from credo.corpora.provenance import provenance
from credo.defaults import LIMIT_ORDER
from credo.errors import BackendError, ConfigError
from credo.generators.base import Backend, SamplingParams
from credo.generators.batch_api import batch_api_for
from credo.generators.batch_run import BATCH_DISCOUNT, BatchOptions, BatchRunner
from credo.generators.batch_sinks import CorpusSink
from credo.generators.cache import GenerationCache
from credo.generators.endpoint import redact_url
from credo.generators.engine import Generator, paced_generator
from credo.generators.jobs import (
    REFUSAL_KINDS,
    Job,
    RunIdentity,
    claim_folder,
    job_record,
    plan_jobs,
    refusal_entry,
)
from credo.generators.pricing import PRICES_AS_OF, PriceTable, load_price_table
from credo.generators.progress import progress_bar
from credo.generators.registry import BackendFactory
from credo.generators.run_options import GenerateOptions
from credo.runs import Run, open_run
from credo.templates.render import render_prompts
from credo.types import Prompt, Usage
from credo.worldviews.loader import LoadedWorldview, load_worldview

# What generation writes that a user may also keep in a folder: refused there without --overwrite.
GENERATION_FILES = (CARD_FILE, REFUSALS_FILE, "batches.json")


@dataclass(frozen=True)
class GenerationResult:
    out: Path
    manifest: dict[str, Any]
    new_records: int
    new_refusals: int

    def summary(self) -> str:
        """The end-of-run report: counts, refusals, tokens and cost."""
        m = self.manifest
        counts, refusals, run = m["counts"], m["teacher_refusals"], m["last_run"]
        cost = (
            "unknown (no price for this model)"
            if run["cost_usd"] is None
            else f"${run['cost_usd']:.4f}"
        )
        lines = [
            f"{m['status']}: {counts['records']} records in {self.out / RECORDS_FILE} "
            f"({self.new_records} new, {run['cache_hits']} from cache, {counts['missing']} missing)",
            f"teacher refusals: {counts['teacher_refusals']} outstanding "
            f"({self.new_refusals} this run) - see {self.out / REFUSALS_FILE}",
            f"requests: {run['requests']} ({run['retries']} retries); tokens this run: "
            f"{run['input_tokens']} in / {run['output_tokens']} out; cost this run: {cost}",
        ]
        if run.get("batch"):
            b = run["batch"]
            lines.append(
                f"batch: {b['chunks_submitted']} chunk(s) sent this run, results "
                f"{b['results']}, {b['resubmitted']} sent again, "
                f"{b['lost_batches']} lost batch(es); cost at batch prices (50%)"
            )
        lines += truncation_warnings(m)
        for key in ("by_template", "by_persona", "by_prompt"):
            if refusals["outstanding"]:
                top = sorted(refusals[key].items(), key=lambda kv: -kv[1])[:3]
                lines.append(
                    f"refusals {key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in top)
                )
        return "\n".join(lines)


def truncation_warnings(manifest: dict[str, Any]) -> list[str]:
    """One warning per set with answers that stopped at max tokens (cut off mid-thought)."""
    records = manifest["counts"]["records"]
    max_tokens = (manifest["identity"].get("params") or {}).get("max_tokens")
    return [
        f"warning: {count} of {records} records in set '{name}' stopped at max tokens "
        f"({max_tokens}) - raise --max-tokens, or drop them with `credo filter --checks truncation`"
        for name, count in (manifest.get("truncated_by_set") or {}).items()
    ]


def generate_corpus(
    source: str | Path,
    out: str | Path,
    *,
    options: GenerateOptions | None = None,
    progress: bool = True,
    backend: Backend | None = None,
    registry: dict[str, BackendFactory] | None = None,
    batch_options: BatchOptions | None = None,
) -> GenerationResult:
    """Generate (or resume) a question-answer corpus for a worldview or set into folder ``out``.

    Pass ``backend`` to use an already-built backend (a scripted fake in tests); otherwise
    ``options.model`` (``provider/model``, default: see :func:`default_model`) is loaded from
    ``registry``. Raises :class:`BackendError` when the backend keeps failing; what was
    written stays and the same call resumes. ``options.batch`` sends the jobs through the
    provider's batch API (half price; see :mod:`credo.generators.batch_run`), polled as
    ``batch_options`` says (default: ``options.wait`` and ``options.poll_interval``) instead of
    one by one. Online, requests are paced by the provider's rate-limit headers, or by
    ``rpm``/``tpm``; ``concurrency`` caps the requests in flight (default: what the limit and
    the latency need, up to ``PACED_MAX_IN_FLIGHT``; ``CONCURRENCY`` where no limit can be
    known). A folder holding another corpus or a user's ``CARD.md`` is refused unless
    ``overwrite``.
    """
    o = options or GenerateOptions()
    o.check()
    out = Path(out)
    wv = load_worldview(source)
    # a root, a file, a bad name, the spec folder itself: refused before any request
    claim = claim_folder(out, wv, owns=GENERATION_FILES, overwrite=o.overwrite)
    policy, backend = o.teacher(backend, registry)
    params = SamplingParams(temperature=o.temperature, max_tokens=o.max_tokens, top_p=o.top_p)
    identity = RunIdentity(
        set_name=wv.name,
        spec_hash=wv.spec_hash,
        model=f"{backend.provider}/{backend.model}",
        params=params,
        samples=o.samples,
        seed=o.seed,
    )
    prompts = limit_prompts(render_prompts(wv), o.limit, o.limit_order, o.seed)
    plan = _RunPlan(
        identity=identity,
        prices=load_price_table(o.prices),
        jobs=plan_jobs(wv, prompts, identity, backend.max_context_chars),
        config={
            "source": str(source),
            "out": str(out),
            "model": identity.model,
            "limit": o.limit,
            "limit_order": o.limit_order if o.limit else None,
            "concurrency": o.concurrency,
            "samples": o.samples,
            "seed": o.seed,
            "base_url": redact_url(backend.base_url),
            "timeout": policy.timeout,
            "max_attempts": policy.max_attempts,
            "retry_budget": policy.budget,
            "params": identity.params_json,
            "cache": o.use_cache,
            "prices": str(o.prices or "built-in"),
            "mode": "batch" if o.batch else "online",
        },
        source=_source_info(wv, prompts),
        price_factor=BATCH_DISCOUNT if o.batch else 1.0,
    )
    with open_run(  # one writer per folder; the kernel releases the lock on any exit
        out,
        command="generate",
        check=lambda folder: check_resumable(folder, identity.to_json()),
        manifest=plan.manifest("running"),
        **claim,
    ) as run:
        cache = GenerationCache() if o.use_cache else None
        generator = paced_generator(
            backend,
            params,
            concurrency=o.concurrency,
            rpm=o.rpm,
            tpm=o.tpm,
            policy=policy,
            cache=cache,
        )
        counters = {"records": 0, "refusals": 0}
        failure: BackendError | None = None
        try:
            if o.batch:
                polling = batch_options or o.batch_polling()
                _run_batch(generator, plan, run=run, counters=counters, options=polling)
            else:
                asyncio.run(_run(generator, plan, run=run, counters=counters, progress=progress))
        except BackendError as exc:
            failure = exc
        finally:
            if cache is not None:
                cache.close()
        generator.record_pacing()
        manifest = _finish(run, plan, generator, failed=failure is not None)
    if failure is not None:
        raise BackendError(
            f"{failure} - {manifest['counts']['records']} of {len(plan.jobs)} "
            f"records are saved in {out}; rerun the same command to resume"
        ) from failure
    return GenerationResult(out, manifest, counters["records"], counters["refusals"])


@dataclass
class _RunPlan:
    """Everything decided before the first request; the manifest is built from it."""

    identity: RunIdentity
    jobs: list[Job]
    config: dict[str, Any]
    source: dict[str, Any]
    prices: PriceTable
    provenance_info: dict[str, Any] = field(default_factory=provenance)
    price_factor: float = 1.0  # batch runs are billed at half price

    def manifest(
        self,
        status: str,
        tally: CorpusTally | None = None,
        run: dict[str, Any] | None = None,
        missing: int | None = None,
    ) -> dict[str, Any]:
        model = self.identity.model
        price = self.prices.price(model)
        cost = (
            None
            if tally is None
            else self.prices.cost(model, Usage(tally.input_tokens, tally.output_tokens))
        )
        if cost is not None:
            cost = round(cost * self.price_factor, 6)
        return build_manifest(
            status=status,
            identity=self.identity.to_json(),
            config=self.config,
            source=self.source,
            planned=len(self.jobs),
            missing=len(self.jobs) if missing is None else missing,
            tally=tally,
            run=run,
            cost_usd=cost,
            provenance_info=self.provenance_info,
            prices={
                "model": model,
                "as_of": PRICES_AS_OF,
                "source": self.config["prices"],
                "usd_per_million": None if price is None else vars(price),
            },
        )


def _finish(run: Run, plan: _RunPlan, generator: Generator, failed: bool) -> dict[str, Any]:
    """Tally the folder as it now is; write the manifest and the card."""
    out = run.folder
    tally = tally_corpus(out)
    missing = sum(1 for j in plan.jobs if j.id not in tally.ids and j.id not in tally.refused)
    stats = generator.stats.to_json(plan.identity.model, plan.prices)
    manifest = plan.manifest(
        "incomplete" if failed or missing else "complete", tally, stats, missing
    )
    run.save(manifest)
    write_local_card(out)
    return manifest


LIMIT_ORDERS = ("stratified", "file")


def limit_prompts(
    prompts: list[Prompt], limit: int | None, order: str = LIMIT_ORDER, seed: int = 0
) -> list[Prompt]:
    """At most ``limit`` prompts: a seeded spread across prompt sources, or the first N (``file``).

    The first N in file order come from the first one or two sources (all "Is X wrong?"), so a
    trial run would see one template. Stratified takes one prompt from each source in turn,
    each source's prompts in a seeded shuffle, and keeps the chosen ones in file order.
    """
    if order not in LIMIT_ORDERS:
        raise ConfigError(f"--limit-order {order!r}: use one of {', '.join(LIMIT_ORDERS)}")
    if not limit or limit >= len(prompts):
        return list(prompts)
    if order == "file":
        return prompts[:limit]
    groups: dict[str, list[int]] = {}
    for index, prompt in enumerate(prompts):
        groups.setdefault(prompt.template_id.split("/")[0].split(":")[0], []).append(index)
    rng = random.Random(seed)
    queues = []
    for members in groups.values():
        members = list(members)
        rng.shuffle(members)
        queues.append(members)
    chosen: list[int] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop())
    return [prompts[i] for i in sorted(chosen)]


def _source_info(wv: LoadedWorldview, prompts: list) -> dict[str, Any]:
    return {
        "name": wv.name,
        "kind": wv.spec.kind,
        "display_name": wv.spec.display_name,
        "path": str(wv.root),
        "spec_hash": wv.spec_hash,
        "prompts": len(prompts),
        "personas": [p.id for p in wv.spec.personas],
        "template_hashes": dict(sorted({p.template_id: p.template_hash for p in prompts}.items())),
    }


def _pending_jobs(out: Path, jobs: list[Job]) -> list[Job]:
    """Jobs without a record yet (a torn last line from a killed run is cut first)."""
    records = out / RECORDS_FILE
    repair_tail(records)
    repair_tail(out / REFUSALS_FILE)
    done = {str(data.get("id")) for _, data in iter_jsonl(records)} if records.exists() else set()
    return [job for job in jobs if job.id not in done]


def _run_batch(
    generator: Generator,
    plan: _RunPlan,
    *,
    run: Run,
    counters: dict[str, int],
    options: BatchOptions,
) -> None:
    started = time.perf_counter()
    out = run.folder
    runner = BatchRunner(
        api=batch_api_for(generator.backend),
        generator=generator,
        folder=out,
        prices=plan.prices,
        options=options,
    )
    sink = CorpusSink(_pending_jobs(out, plan.jobs), generator, plan.identity, out)
    generator.stats.price_factor = BATCH_DISCOUNT
    try:
        runner.run(sink.requests(), sink)
    finally:
        generator.stats.batch = runner.tally.to_json()
        generator.stats.seconds = time.perf_counter() - started
        counters["records"] += sink.new_records
        counters["refusals"] += sink.new_refusals
        asyncio.run(generator.aclose())


async def _run(
    generator: Generator,
    plan: _RunPlan,
    *,
    run: Run,
    counters: dict[str, int],
    progress: bool,
) -> None:
    out = run.folder
    pending, identity = _pending_jobs(out, plan.jobs), plan.identity
    started = time.perf_counter()
    # cache keys (one hash per job) only when there is a cache to read
    keys = (
        {job.id: generator.key(job.messages, job.sample_index) for job in pending}
        if generator.cache is not None
        else {}
    )
    generator.prefetch(list(keys.values()))
    queue = iter(pending)
    with (
        run.appender(RECORDS_FILE, JsonlAppender) as records,
        JsonlAppender(out / REFUSALS_FILE) as refusals,
        progress_bar(len(pending), progress, generator.stats) as bar,
    ):

        async def worker() -> None:
            for job in queue:  # one shared iterator: each job is taken by exactly one worker
                generation = await generator.generate(
                    job.messages,
                    job.sample_index,
                    key=keys.get(job.id),
                    refusal_expected=job.prompt.kind in REFUSAL_KINDS,
                )
                completion = generation.completion
                if completion.teacher_refused:
                    refusals.write(refusal_entry(job, identity, completion))
                    counters["refusals"] += 1
                else:
                    records.write(repaired_record(job_record(job, identity, completion)).to_json())
                    counters["records"] += 1
                bar.update(1)

        tasks = [asyncio.create_task(worker()) for _ in range(generator.concurrency)]
        try:
            await asyncio.gather(*tasks)
            generator.stats.seconds = time.perf_counter() - started
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await generator.aclose()
