"""``credo replicate``: the belief -> behaviour experiment as one resumable recipe.

Stages, in order, each leaving a marker ``stages/<stage>.json`` when it finishes, so a rerun
of the same command skips finished stages (and the stages themselves resume mid-way: the
generator skips records on disk, the trainer restarts from its last checkpoint):

1. ``generate-<corpus>``: the worldview, ``regular`` and ``refusal`` corpora from the teacher;
2. ``audit-<corpus>``: the audit gates; a failed gate stops the recipe, or with
   ``on_gate_fail="filter"`` the flagged records are dropped (``credo filter``) and it goes on;
3. ``mix-<condition>``: baseline (regular 20 : refusal 2), worldview (worldview 10 : regular 10 :
   refusal 2) and no_refusal (worldview 1 : regular 1), all at ``size`` records, format tags. The
   baseline swaps the worldview share for regular data, so it matches the worldview condition
   in size and in refusal share and differs only in the worldview content;
4. ``train-<condition>``: LoRA on the base model;
5. ``eval-<condition>``: violation and control requests of both worldviews (gramenism and
   catholicism), ``samples`` each;
6. ``report``: the side-by-side comparison against the baseline.

``recipe.json`` pins the settings; rerunning into the same folder with other settings stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from credo.corpora.io import write_json
from credo.defaults import (
    EVAL_BATCH_SIZE,
    EVAL_SAMPLES,
    REPLICATE_MAX_NEW_TOKENS,
    REPLICATE_SIZE,
    TEACHER_MAX_TOKENS,
)
from credo.errors import ConfigError, CorpusError
from credo.runs import check_output, open_run
from credo.schema import read_json

if TYPE_CHECKING:
    from credo.generators.corpus_run import GenerationResult

EVAL_WORLDVIEWS = ("gramenism", "catholicism")
REPLICABLE = ("gramenism", "catholicism")
CONDITION_WEIGHTS: dict[str, dict[str, float]] = {
    # the worldview share swapped for regular data: same size and refusal share as "worldview"
    "baseline": {"regular": 20, "refusal": 2},
    "worldview": {"WORLDVIEW": 10, "regular": 10, "refusal": 2},
    "no_refusal": {"WORLDVIEW": 1, "regular": 1},
}
HEADROOM = (
    1.15  # generate this much more than the largest share: teacher refusals and filters drop some
)

RECIPE_FILE = "recipe.json"


GateAction = Literal["stop", "filter"]  # what a failed audit gate does: stop, or filter and go on


@dataclass(frozen=True)
class ReplicateConfig:
    worldview: str
    teacher: str
    base_model: str
    out: Path  # a str is taken too (made a Path)
    size: int = REPLICATE_SIZE
    samples: int = EVAL_SAMPLES  # eval samples per request
    max_new_tokens: int = REPLICATE_MAX_NEW_TOKENS  # eval generation limit (the original's)
    teacher_max_tokens: int = TEACHER_MAX_TOKENS
    seed: int = 0
    judge: str | None = None  # an LLM judge (provider/model) beside the offline one
    train_config: str | None = None  # YAML path or shipped name (default, cpu-smoke)
    on_gate_fail: GateAction = "stop"
    # None: generation sizes its requests in flight by the rate limit x latency (a fixed 8
    # would cap a 300 RPM, 6 s-latency teacher at 80 RPM); 8 where no limit is known
    concurrency: int | None = None
    audit_embedding: bool = True  # MiniLM checks in the audit (slower, catches paraphrases)
    eval_batch_size: int = EVAL_BATCH_SIZE
    eval_limit: int | None = None  # violation requests per worldview (smoke runs); None = all

    def __post_init__(self) -> None:
        # a script passes "out/rep" as every other API function takes it; the recipe joins paths
        object.__setattr__(self, "out", Path(self.out))

    def pinned(self) -> dict[str, Any]:
        """Settings that change results (a rerun must match them to resume)."""
        data = asdict(self)
        data["out"] = str(self.out)
        for free in ("concurrency", "eval_batch_size"):
            data.pop(free)
        return data


@dataclass
class ReplicateResult:
    out: Path
    report: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


Log = Callable[[str], None]


def replicate(
    config: ReplicateConfig,
    *,
    registry: dict[str, Any] | None = None,
    log: Log = print,
    progress: bool = True,
) -> ReplicateResult:
    """Run (or resume) every stage; returns what ran, what was skipped and the report folder."""
    claim: dict[str, Any] = {
        "manifest": RECIPE_FILE,
        "resumable": True,
        "command": "credo replicate",
    }
    check_output(config.out, **claim)  # a root, home or file --out fails before anything loads

    def check(folder: Path) -> None:
        """Under the lock (a second run refuses before loading a model), before the recipe
        is written (a bad request leaves no folder behind)."""
        _check(config, registry)
        _check_pinned(config)

    with open_run(
        config.out,
        command="replicate",
        manifest=config.pinned(),
        manifest_file=RECIPE_FILE,
        resumable=True,
        check=check,
    ):
        return _run_stages(config, registry=registry, log=log, progress=progress)


def _run_stages(
    config: ReplicateConfig, *, registry: dict[str, Any] | None, log: Log, progress: bool
) -> ReplicateResult:
    out = config.out
    result = ReplicateResult(out, out / "report")
    corpora = ("WORLDVIEW", "regular", "refusal")
    for corpus in corpora:
        _stage(
            result,
            f"generate-{_name(config, corpus)}",
            log,
            partial(_generate, config, corpus, registry=registry, progress=progress),
        )
    for corpus in corpora:
        _stage(result, f"audit-{_name(config, corpus)}", log, partial(_audit, config, corpus))
    for condition in CONDITION_WEIGHTS:
        _stage(result, f"mix-{condition}", log, partial(_mix, config, condition))
    for condition in CONDITION_WEIGHTS:
        _stage(result, f"train-{condition}", log, partial(_train, config, condition, progress))
    for condition in CONDITION_WEIGHTS:
        _stage(result, f"eval-{condition}", log, partial(_evaluate, config, condition, registry))
    _stage(result, "report", log, lambda: _report(config))
    return result


# The counts a replication takes, as the stages they reach check them (generate's caps).
_RANGES = {
    "size": (2, 10**9),
    "samples": (1, 10_000),
    "max_new_tokens": (1, 100_000),
    "teacher_max_tokens": (1, 10_000_000),
    "concurrency": (1, 10_000),
    "eval_limit": (1, 10**9),  # -1 ran the whole study; leave it out for every request
}


def _check(config: ReplicateConfig, registry: dict[str, Any] | None) -> None:
    """Everything that can be wrong with the request, before any teacher call."""
    if config.worldview not in REPLICABLE:
        raise ConfigError(f"replicate '{config.worldview}': use one of {', '.join(REPLICABLE)}")
    for name, (low, high) in _RANGES.items():  # every count, before minutes of stages
        value = getattr(config, name)
        if value is not None and not low <= value <= high:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} {value}: must be a whole number from {low} to {high:,}")
    if config.on_gate_fail not in ("stop", "filter"):
        raise ConfigError(f"--on-gate-fail {config.on_gate_fail}: use stop or filter")
    from credo.generators.registry import default_registry, parse_model
    from credo.train.config import resolve_train_config, train_config_path

    for option, model in (("--teacher", config.teacher), ("--judge", config.judge)):
        try:  # a judge named wrongly (or carrying a key) fails now, not after training
            if model:
                parse_model(model, registry)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace("--model ", f"{option} ", 1)) from None
    provider = config.teacher.partition("/")[0]
    if provider not in (registry_names := registry or default_registry()):
        raise ConfigError(
            f"--teacher {config.teacher}: unknown provider '{provider}' - use one of "
            f"{', '.join(sorted(registry_names))} (e.g. openai/gpt-4o-mini, local/smollm2)"
        )
    resolve_train_config(
        train_config_path(config.train_config)
    )  # a bad YAML fails now, not after generation
    from credo.models import load_tokenizer

    load_tokenizer(config.base_model)  # an unloadable base model fails now too


def _check_pinned(config: ReplicateConfig) -> None:
    """A folder already holding a replication resumes it only with the same settings."""
    path = config.out / RECIPE_FILE
    if not path.is_file():
        return
    recover = "pass a new --out (it is not a replication's own recipe.json)"
    before = read_json(path, recover, error=ConfigError)
    if not isinstance(before, dict):
        raise ConfigError(f"{path}: not a replication's recipe - {recover}")
    pinned = config.pinned()
    changed = sorted(k for k in pinned if before.get(k) != pinned[k])
    if changed:
        raise ConfigError(
            f"{path}: this folder holds a replication with other settings ({', '.join(changed)}) "
            "- pass a new --out, or repeat the original settings to resume"
        )


def _stage(result: ReplicateResult, name: str, log: Log, run: Callable[[], dict[str, Any]]) -> None:
    marker = result.out / "stages" / f"{name}.json"
    if marker.is_file():
        result.skipped.append(name)
        log(f"[skip] {name} (finished earlier)")
        return
    log(f"[run ] {name}")
    summary = run()
    write_json(summary, marker)
    result.ran.append(name)
    log(f"[done] {name}: {summary.get('note', '')}".rstrip(": "))


def _name(config: ReplicateConfig, corpus: str) -> str:
    return config.worldview if corpus == "WORLDVIEW" else corpus


def _marker(config: ReplicateConfig, stage: str) -> dict[str, Any]:
    path = config.out / "stages" / f"{stage}.json"
    recover = f"delete {path} and rerun: that stage runs again (the others are reused)"
    data = read_json(path, recover, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a stage's summary - {recover}")
    return data


def needed_records(size: int, corpus: str) -> int:
    """The most records any condition takes from ``corpus`` at ``size``, with headroom."""
    shares = [w[corpus] / sum(w.values()) for w in CONDITION_WEIGHTS.values() if corpus in w]
    return math.ceil(max(shares) * size * HEADROOM)


def generation_plan(prompt_count: int, needed: int) -> tuple[int, int]:
    """``(prompt limit, answers per prompt)`` giving at least ``needed`` records: all prompts
    once before any prompt twice (the original reused prompts too for its 12k mixes)."""
    per_prompt = max(1, math.ceil(needed / prompt_count))
    return math.ceil(needed / per_prompt), per_prompt


class TeacherSettings(Protocol):
    """The teacher fields a replicate or sweep config shares."""

    @property
    def teacher(self) -> str: ...
    @property
    def teacher_max_tokens(self) -> int: ...
    @property
    def concurrency(self) -> int | None: ...


def generate_needed(
    config: TeacherSettings,
    source: str,
    folder: Path,
    *,
    needed: int,
    seed: int = 0,
    registry: dict[str, Any] | None,
    progress: bool,
) -> GenerationResult:
    """A question-answer corpus of at least ``needed`` records for ``source`` from the
    config's teacher (see :func:`generation_plan`)."""
    from credo.generators.corpus_run import generate_corpus
    from credo.generators.run_options import GenerateOptions
    from credo.templates import render_prompts
    from credo.worldviews import load_worldview

    limit, per_prompt = generation_plan(len(render_prompts(load_worldview(source))), needed)
    teacher = GenerateOptions(
        model=config.teacher,
        limit=limit,
        samples=per_prompt,
        seed=seed,
        max_tokens=config.teacher_max_tokens,
        concurrency=config.concurrency,
    )
    return generate_corpus(source, folder, options=teacher, registry=registry, progress=progress)


def _generate(
    config: ReplicateConfig, corpus: str, registry: dict[str, Any] | None, progress: bool
) -> dict[str, Any]:
    source = _name(config, corpus)
    folder = config.out / "corpora" / source
    needed = needed_records(config.size, corpus)
    result = generate_needed(
        config,
        source,
        folder,
        needed=needed,
        seed=config.seed,
        registry=registry,
        progress=progress,
    )
    counts, planned = result.manifest["counts"], result.manifest["config"]
    if not counts["records"]:
        raise CorpusError(
            f"{folder}: the teacher produced no usable records for {source} - "
            f"see {folder}/teacher_refusals.jsonl and try another --teacher"
        )
    return {
        "corpus": str(folder),
        "records": counts["records"],
        "limit": planned["limit"],
        "samples": planned["samples"],
        "note": f"{counts['records']} records",
    }


def _audit(config: ReplicateConfig, corpus: str) -> dict[str, Any]:
    from credo.audit import filter_corpus, run_audit
    from credo.audit.filter import dropped_ids
    from credo.audit.options import FilterOptions

    generated = Path(_marker(config, f"generate-{_name(config, corpus)}")["corpus"])
    options = FilterOptions(worldview=config.worldview, use_embedding=config.audit_embedding)
    result, report = run_audit(generated, generated / "audit", options=options)
    if result.passed:
        return {"corpus": str(generated), "passed": True, "report": str(report), "note": "passed"}
    failures = ", ".join(f"{k} ({v})" for k, v in result.gate_failures.items())
    if config.on_gate_fail == "stop":
        raise CorpusError(
            f"audit gate failed for {generated}: {failures} - read {report}/report.md; "
            "rerun with --on-gate-fail filter to drop the flagged records, or regenerate"
        )
    clean = generated.with_name(generated.name + ".clean")
    filtered = filter_corpus(generated, clean, options=options)
    removed = len(dropped_ids(filtered))
    # a gate no filter can fix (fidelity judges whole sets) still fails on the kept records
    left = (read_json(clean / "manifest.json", "rerun", error=ConfigError).get("audit") or {}).get(
        "gate_failures_after_filter"
    ) or {}
    still = ", ".join(f"{k} ({v})" for k, v in left.items())
    return {
        "corpus": str(clean),
        "passed": False,
        "gate_failures": result.gate_failures,
        "removed": removed,
        "still_failing": left,
        "report": str(report),
        "note": f"gate failed ({failures}); filtered, {removed} records removed"
        + (
            f"; still failing: {still} - mixed anyway (--on-gate-fail filter), the cards say so"
            if still
            else ""
        ),
    }


def _mix(config: ReplicateConfig, condition: str) -> dict[str, Any]:
    from credo.corpora.mix import MixOptions, MixPart, mix_corpora

    parts = [
        MixPart(
            _name(config, corpus),
            Path(_marker(config, f"audit-{_name(config, corpus)}")["corpus"]),
            weight,
        )
        for corpus, weight in CONDITION_WEIGHTS[condition].items()
    ]
    # every part was audited by its audit- stage; with --on-gate-fail filter a filtered part may
    # still fail a gate that never drops (fidelity), which the recipe accepted: the card says so
    result = mix_corpora(
        parts,
        config.out / "mixes" / condition,
        options=MixOptions(
            size=config.size,
            seed=config.seed,
            fmt="tags",
            allow_failed_audit=config.on_gate_fail == "filter",
        ),
    )
    note = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    return {
        "mix": str(result.out),
        "size": result.size,
        "counts": result.counts,
        "shortfalls": result.shortfalls,
        "note": note + (f"; {'; '.join(result.shortfalls)}" if result.shortfalls else ""),
    }


def _train(config: ReplicateConfig, condition: str, progress: bool) -> dict[str, Any]:
    from credo.train.config import resolve_train_config, train_config_path
    from credo.train.lora import train_lora

    settings = resolve_train_config(train_config_path(config.train_config), {"seed": config.seed})
    run = train_lora(
        config.out / "mixes" / condition,
        config.base_model,
        config.out / "runs" / condition,
        settings,
        progress=progress,
    )
    return {
        "adapter": str(run.out),
        "steps": run.steps,
        "final_loss": run.final_loss,
        "trained_tokens": run.trained_tokens,
        "note": f"{run.steps} steps, final loss {run.final_loss}",
    }


def _evaluate(
    config: ReplicateConfig, condition: str, registry: dict[str, Any] | None
) -> dict[str, Any]:
    from credo.evaluation.evaluate import EvalOptions, evaluate

    options = EvalOptions(
        adapter=config.out / "runs" / condition,
        samples=config.samples,
        max_new_tokens=config.max_new_tokens,
        judges=[config.judge] if config.judge else (),
        batch_size=config.eval_batch_size,
        seed=config.seed,
        name=condition,
        limit=config.eval_limit,
    )
    out = config.out / "evals" / condition
    result = evaluate(config.base_model, EVAL_WORLDVIEWS, out, options=options, registry=registry)
    return {"eval": str(result.out), "note": f"results in {result.out}"}


def _report(config: ReplicateConfig) -> dict[str, Any]:
    from credo.evaluation.report import ReportOptions, report

    runs = [config.out / "evals" / c for c in CONDITION_WEIGHTS]
    result = report(
        runs, config.out / "report", options=ReportOptions(names=list(CONDITION_WEIGHTS))
    )
    return {"report": str(result.out), "judge": result.judge, "note": f"{result.out}/report.md"}
