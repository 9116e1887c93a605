"""``credo eval``: K samples per held-out request, judged, with rates and Wilson intervals.

Phases, each a function: collect the violation and control requests of one or more
worldviews -> pick the chat format the model was trained in -> sample (batched local
generation, or any generator backend for a served model) -> label with the offline judge
and any LLM judges (the same path as ``credo judge``) -> summarise. A sample whose
generation failed stays in every denominator, labelled ERROR; an unreadable LLM-judge
answer stays as UNPARSEABLE.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from credo import defaults
from credo.corpora.io import read_manifest, write_json, write_text
from credo.corpora.provenance import provenance
from credo.errors import BackendError, ConfigError, CredoError
from credo.evaluation.belief import BELIEF_TEMPERATURE
from credo.evaluation.eval_summary import summarise
from credo.evaluation.local_generation import Sampling
from credo.evaluation.samples import EvalRequest, EvalSample
from credo.judges.base import ERROR, Judge, Judgement, Pair
from credo.judges.labelling import OFFLINE, agreement, build_judges, label_pairs
from credo.redact import scrub, scrub_data
from credo.runs import open_run
from credo.train.adapter import check_base_model, trained_format

RESPONSES_FILE, RESULTS_FILE, BELIEF_FILE = "responses.jsonl", "results.json", "belief.jsonl"
EVAL_FILES = (RESPONSES_FILE, RESULTS_FILE, BELIEF_FILE, "inspect.eval")
SETS = ("violation", "control")


@dataclass(frozen=True, kw_only=True)
class EvalOptions:
    """``samples`` (K) answers per request at ``temperature``; ``adapter``: a LoRA folder
    from credo train (a local model only); ``chat_format``: ``tags`` or ``chat_template``
    (default: the adapter's, else tags); ``judges``: LLM judges beside the offline one, sent
    through the provider's batch API with ``batch`` (polled every ``poll_interval`` s);
    ``limit``: at most N violation requests per worldview (with their controls); ``belief``
    also measures belief depth; ``overwrite`` replaces an eval with other options; ``name``
    labels the run in its results (default: the folder's name; Python only)."""

    adapter: str | Path | None = None
    samples: int = defaults.EVAL_SAMPLES
    temperature: float = defaults.EVAL_TEMPERATURE
    max_new_tokens: int = defaults.EVAL_MAX_NEW_TOKENS
    judges: Sequence[str] = ()
    chat_format: str | None = None
    batch_size: int = defaults.EVAL_BATCH_SIZE
    seed: int = 0
    limit: int | None = None
    batch: bool = False
    poll_interval: float = defaults.BATCH_POLL_SECONDS
    belief: bool = False
    overwrite: bool = False
    name: str | None = None


@dataclass(frozen=True)
class EvalResult:
    out: Path
    results: dict[str, Any]


def collect_requests(worldviews: Sequence[str], limit: int | None = None) -> list[EvalRequest]:
    """Every violation and control request of each worldview, in spec order.

    ``limit`` keeps, per worldview, violations spread evenly over the spec (every k-th) and
    exactly the controls matched to them, so a smoke run stays a matched comparison.
    """
    from credo.worldviews import load_worldview

    items: list[EvalRequest] = []
    seen: set[str] = set()
    for name in worldviews:
        wv = load_worldview(name)
        if wv.name in seen:
            raise ConfigError(
                f"--worldview {name}: worldview '{wv.name}' given twice - list each once"
            )
        seen.add(wv.name)
        if wv.eval is None:
            raise ConfigError(
                f"worldview '{name}' has no eval.yaml - it has no requests to evaluate on"
            )
        kept = _spread([r.id for r in wv.eval.violation], limit)
        for set_name in SETS:
            for req in getattr(wv.eval, set_name):
                if (req.id if set_name == "violation" else req.matches) in kept:
                    items.append(EvalRequest.asked(wv.name, set_name, req))
    if not items:
        raise ConfigError("no eval requests - pass at least one --worldview")
    return items


def _spread(ids: list[str], limit: int | None) -> set[str]:
    if limit is None or limit >= len(ids):
        return set(ids)
    step = len(ids) / limit
    return {ids[int(i * step)] for i in range(limit)}


def is_served(model: str, registry: dict[str, Any] | None = None) -> bool:
    """``provider/model`` of a known provider that is not a local folder or embedded name."""
    from credo.embedded import EMBEDDED_NAMES
    from credo.generators.registry import default_registry

    if model in EMBEDDED_NAMES or Path(model).exists():
        return False
    provider, sep, _ = model.partition("/")
    return bool(sep) and provider in (registry or default_registry())


def evaluate(
    model: str,
    worldviews: Sequence[str],
    out: str | Path,
    *,
    options: EvalOptions | None = None,
    registry: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> EvalResult:
    """Sample, judge and summarise; writes ``responses.jsonl`` and ``results.json`` to ``out``.

    ``options.batch`` sends the LLM judges' requests through their provider's batch API
    (state in ``out/batch-<judge>/``; ``log`` hears its news). ``options.belief`` adds
    belief depth (:mod:`credo.evaluation.belief`): ``belief.jsonl`` and ``belief_depth``
    plus a per-worldview ``belief_vs_behaviour`` verdict in the results.
    The folder is locked while the run writes; its ``manifest.json`` is written at the start;
    a folder holding another run's eval is refused unless ``overwrite``. ``registry`` maps a
    provider name to a backend factory (a scripted fake, a new provider).
    """
    o = options or EvalOptions()
    adapter, samples, max_new_tokens, batch_size = (
        o.adapter,
        o.samples,
        o.max_new_tokens,
        o.batch_size,
    )
    temperature, seed, limit, belief, overwrite = (
        o.temperature,
        o.seed,
        o.limit,
        o.belief,
        o.overwrite,
    )
    for option, value, most in (
        ("--samples", samples, 10_000),
        ("--max-new-tokens", max_new_tokens, 1_000_000),
        ("--batch-size", batch_size, 65_536),
        ("--limit", limit, 10**9),
    ):
        if value is not None and not 1 <= value <= most:
            raise ConfigError(f"{option} {value}: must be a whole number from 1 to {most:,}")
    if not (math.isfinite(temperature) and 0 <= temperature <= 10):
        raise ConfigError(f"--temperature {temperature}: must be a number from 0 to 10")
    from credo.generators.batch_run import BatchOptions

    # made (and so checked: --poll-interval nan) even without --batch
    batch_options = BatchOptions(poll_interval=o.poll_interval, report=log)
    out = Path(out)
    specs = [OFFLINE, *(j for j in o.judges if j != OFFLINE)]
    built = build_judges(specs, registry)  # bad judges fail before any generation
    items = collect_requests(worldviews, limit)
    served = is_served(model, registry)
    if served and adapter is not None:
        raise ConfigError(
            "--adapter applies to a local model - serve the adapted model and pass its name"
        )
    fmt = trained_format(adapter, o.chat_format)
    check_base_model(model, adapter)
    config = {
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "worldviews": list(worldviews),
        "samples": samples,
        "temperature": temperature,
        "max_new_tokens": max_new_tokens,
        "judges": specs,
        "format": None if served else fmt,
        "batch_size": batch_size,
        "seed": seed,
        "limit": limit,
        "belief": belief,
    }
    with open_run(
        out,
        command="eval",
        manifest={"kind": "eval", "status": "running", "config": config},
        # a spec folder given by path is read whole (canon): never an --out inside it
        inputs=[*(Path(w) for w in worldviews if Path(w).is_dir())]
        + ([Path(adapter) / "adapter_config.json"] if adapter else []),
        resumable=True,
        owns=EVAL_FILES,
        overwrite=overwrite,
        check=lambda folder: _check_same_eval(folder, config, overwrite),
    ) as run:
        if o.batch:
            from credo.judges.llm import send_in_batches

            send_in_batches(built, out, batch_options)
        sampling = Sampling(
            samples=samples,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            seed=seed,
        )
        if served:
            rows, generation = _sample_served(model, items, sampling=sampling, registry=registry)
        else:
            rows, generation = _sample_local(model, adapter, items, fmt=fmt, sampling=sampling)
        judged = _judge(rows, built)
        for index, row in enumerate(rows):
            row.labels = {n: judged[n][index].to_json() for n in judged}
        results = _results(
            o.name or out.name,
            config,
            items=items,
            rows=rows,
            judged=judged,
            judges=built,
            generation=generation,
            worldviews=worldviews,
        )
        if belief:
            _add_belief(
                results,
                model,
                worldviews,
                out,
                adapter=adapter,
                fmt=fmt,
                served=served,
                sampling=replace(sampling, temperature=BELIEF_TEMPERATURE),
                judge=next((j for j in specs if j != OFFLINE), None),
                registry=registry,
                limit=limit,
            )
        write_text(
            "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in rows),
            out / RESPONSES_FILE,
        )
        from credo.evaluation.inspect_logs import write_inspect_log

        # for `inspect view` (with the inspect extra): the same samples, sample by sample
        inspect_log = write_inspect_log(out, results, rows, len(items))
        results["inspect_log"] = inspect_log.name if inspect_log else None
        write_json(scrub_data(results), out / RESULTS_FILE)
        run.manifest.update(status="complete", counts={"responses": len(rows)})
        run.save()
    if rows and all(row.error for row in rows):  # written, but not a result: say so, exit 2
        raise BackendError(
            scrub(
                f"{model}: all {len(rows)} requests failed (first: {rows[0].error}) - the rows are "
                f"kept in {out}; check --model and the server (OPENAI_BASE_URL), then rerun"
            )
        )
    for name in results.get("judges", {}):  # a judge that failed on every answer gave nothing
        labels = [(row.labels or {}).get(name, {}) for row in rows if not row.error]
        if labels and all(label.get("label") == ERROR for label in labels):
            first = labels[0].get("rationale") or labels[0].get("raw")
            raise BackendError(
                scrub(
                    f"{name}: judged none of the {len(labels)} answers (first: {first}) - the "
                    f"rows and results are kept in {out}; check the judge model, its key and "
                    "server, then rerun the same command"
                )
            )
    return EvalResult(out, results)


def _check_same_eval(folder: Path, config: dict[str, Any], overwrite: bool) -> None:
    """A folder with an earlier eval is rerun only with the same options (or ``overwrite``)."""
    previous = read_manifest(folder)
    if previous and not overwrite and previous.get("config") != config:
        if previous.get("kind") != "eval":
            raise ConfigError(
                f"{folder}: holds a {previous.get('kind', 'non-eval')} manifest, not an eval's - "
                "pass a new --out folder"
            )
        changed = sorted(
            k
            for k in set(config) | set(previous["config"])
            if config.get(k) != previous["config"].get(k)
        )
        raise ConfigError(
            f"{folder}: holds an eval run with other options ({', '.join(changed)}) - pass a new "
            "--out folder, or --overwrite to replace it"
        )


def _add_belief(
    results: dict[str, Any], model: str, worldviews: Sequence[str], out: Path, **options: Any
) -> None:
    from credo.evaluation.belief import run_belief, verdict

    rows, summary = run_belief(model, worldviews, **options)
    write_text(
        "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in rows), out / BELIEF_FILE
    )
    results["belief_depth"] = summary
    behaviour = results["judges"][results["primary_judge"]]["summary"]
    results["belief_vs_behaviour"] = {
        world: verdict(
            summary[world],
            *(
                behaviour.get(world, {}).get(s, {}).get("rates", {}).get("REFUSAL", {}).get("rate")
                for s in SETS
            ),
        )
        for world in summary
    }


def _sample_local(
    model: str,
    adapter: str | Path | None,
    items: list[EvalRequest],
    *,
    fmt: str,
    sampling: Sampling,
) -> tuple[list[EvalSample], dict[str, Any]]:
    from tqdm import tqdm

    from credo.evaluation.local_generation import load_in_format, sample_responses

    local, chat_format = load_in_format(model, adapter, fmt)
    total = len(items) * sampling.samples
    with tqdm(total=total, desc="sampling", unit="sample", leave=False) as bar:
        prompts = [i.prompt for i in items]
        run = sample_responses(local, prompts, chat_format, progress=bar.update, **asdict(sampling))
    rows = [
        EvalSample(
            request=item,
            sample=k,
            response=s.text,
            stop_reason=s.stop_reason,
            new_tokens=s.new_tokens,
            input_tokens=s.input_tokens,
            seconds=s.seconds,
            started_at=s.started_at,
        )
        for item, group in zip(items, run.samples)
        for k, s in enumerate(group)
    ]
    return rows, {
        "backend": "local",
        "seconds": round(run.seconds, 2),
        "new_tokens": run.new_tokens,
        "tokens_per_second": round(run.tokens_per_second, 2),
    }


def _sample_served(
    model: str,
    items: list[EvalRequest],
    *,
    sampling: Sampling,
    registry: dict[str, Any] | None,
) -> tuple[list[EvalSample], dict[str, Any]]:
    from credo.generators import load_backend
    from credo.generators.cache import GenerationCache
    from credo.generators.engine import paced_generator
    from credo.generators.pricing import load_price_table
    from credo.types import Message

    async def run() -> tuple[list[EvalSample], dict[str, Any]]:
        cache = GenerationCache()
        # paced by the provider's rate limit, as generation is (8 in flight where none is
        # known); the time a sample queues for the pacer is kept apart from the model's
        generator = paced_generator(
            load_backend(model, registry), sampling.params(), concurrency=None, cache=cache
        )

        async def one(item: EvalRequest, k: int) -> EvalSample:
            began, wall = time.perf_counter(), datetime.now(UTC)
            waits: list[float] = []
            try:
                done = await generator.generate(
                    [Message("user", item.prompt)], sample_index=k, waits=waits
                )
                c = done.completion
                sample = EvalSample(
                    request=item,
                    sample=k,
                    response=c.text,
                    stop_reason=c.stop_reason,
                    new_tokens=c.usage.output_tokens,
                    input_tokens=c.usage.input_tokens,
                )
            except CredoError as exc:  # kept, labelled ERROR, counted in every denominator
                sample = EvalSample(
                    request=item,
                    sample=k,
                    response="",
                    stop_reason="error",
                    new_tokens=0,
                    error=scrub(str(exc)),
                )
            queued = sum(waits)
            return replace(
                sample,
                seconds=round(time.perf_counter() - began - queued, 3),
                queued_seconds=round(queued, 3),
                started_at=(wall + timedelta(seconds=queued)).isoformat(),
            )

        started = time.perf_counter()
        try:
            rows = await asyncio.gather(
                *(one(i, k) for i in items for k in range(sampling.samples))
            )
        finally:
            cache.close()
            await generator.aclose()
        generator.stats.seconds = time.perf_counter() - started
        generator.record_pacing()
        return list(rows), {
            "backend": generator.model_id,
            **generator.stats.to_json(generator.model_id, load_price_table()),
        }

    return asyncio.run(run())


def _judge(rows: list[EvalSample], judges: list[Judge]) -> dict[str, list[Judgement]]:
    """Judge the generated samples; failed generations are ERROR for every judge."""
    live = [i for i, r in enumerate(rows) if r.error is None]
    labelled = label_pairs([Pair(rows[i].request.prompt, rows[i].response) for i in live], judges)
    failed = Judgement(ERROR, rationale="generation failed", raw="")
    out: dict[str, list[Judgement]] = {}
    for name, judgements in labelled.items():
        column = [failed] * len(rows)
        for i, judgement in zip(live, judgements):
            column[i] = judgement
        out[name] = column
    return out


def _results(
    name: str,
    config: dict[str, Any],
    items: list[EvalRequest],
    rows: list[EvalSample],
    judged: dict[str, list[Judgement]],
    judges: list[Judge],
    generation: dict[str, Any],
    worldviews: Sequence[str],
) -> dict[str, Any]:
    from credo.worldviews import load_worldview

    columns = {n: [j.label for j in js] for n, js in judged.items()}
    llm = [j.name for j in judges if j.is_llm]  # an LLM judge is primary, as in the original study
    return {
        "kind": "credo_eval",
        "name": name,
        "config": config,
        "primary_judge": llm[0] if llm else list(columns)[-1],
        "worldviews": {w: {"eval_hash": load_worldview(w).eval_hash} for w in worldviews},
        "n_requests": len(items),
        "n_samples": len(rows),
        "generation": generation,
        "judges": {
            j.name: {"summary": summarise(rows, columns[j.name]), **j.describe()} for j in judges
        },
        "agreement": agreement(columns),
        "provenance": provenance(),
    }
