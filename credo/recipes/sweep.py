"""``credo sweep CONFIG.yaml``: a dose-response grid over condition, text form and dose.

A cell is one (condition, form, size, learning_rate, epochs, seed). Each runs
generate -> audit -> mix -> train -> eval, but every artifact is *content-addressed*
(``artifacts/<kind>/<hash of what made it>/``) and reused by every cell that needs the
same thing: corpora are generated once at the largest size any cell needs (smaller mixes
sample from them) and audited once (a failed gate fails the cells that need the corpus, or
with ``audit.on_gate_fail: filter`` they mix the filtered copy, as ``credo replicate``), a
baseline mix does not depend on the text form, and two cells differing only in evaluation
share an adapter. An artifact is finished when its ``done.json`` exists.

Cells are resumable one by one: ``cells/<cell>.json`` records ``done`` (with its metrics) or
``failed`` (with the one-line error); a failing cell does not stop the others, and a rerun
skips done cells and retries only failed ones. The time and cost estimate is printed before
anything runs. The report (:mod:`credo.recipes.sweep_report`) plots refusal rate and belief
depth against dose with Wilson intervals and a fitted trend per condition.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from credo.corpora.io import write_json
from credo.defaults import TEACHER_MAX_TOKENS
from credo.errors import ConfigError, CorpusError, CredoError
from credo.hashing import content_hash
from credo.recipes.replicate import CONDITION_WEIGHTS, HEADROOM, generate_needed
from credo.redact import scrub
from credo.runs import open_run
from credo.schema import Strict, read_json, read_yaml, validate

GRID_KEYS = ("condition", "form", "size", "learning_rate", "epochs", "seed")
FORMS = ("qa", "documents", "both")
TOP_KEYS = (
    "worldview",
    "teacher",
    "base_model",
    "grid",
    "train_config",
    "train",
    "eval",
    "documents",
    "audit",
    "estimate",
    "teacher_max_tokens",
    "concurrency",
    "name",
)
AUDIT_DEFAULTS: dict[str, Any] = {"on_gate_fail": "stop", "embedding": True}  # as `credo replicate`


@dataclass(frozen=True)
class Cell:
    condition: str
    form: str
    size: int
    learning_rate: float
    epochs: int
    seed: int

    @property
    def name(self) -> str:
        return (
            f"{self.condition}-{self.form}-n{self.size}-lr{self.learning_rate:g}-e{self.epochs}"
            f"-s{self.seed}"
        )

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in GRID_KEYS}


@dataclass(frozen=True)
class SweepConfig:
    worldview: str
    teacher: str
    base_model: str
    grid: dict[str, list[Any]]
    train_config: str | None = None
    train: dict[str, Any] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=lambda: dict(AUDIT_DEFAULTS))
    estimate: dict[str, Any] = field(default_factory=dict)
    teacher_max_tokens: int = TEACHER_MAX_TOKENS
    concurrency: int | None = None  # None: what the rate limit needs (see ReplicateConfig)
    name: str = "sweep"

    def cells(self) -> list[Cell]:
        return [Cell(*values) for values in itertools.product(*(self.grid[k] for k in GRID_KEYS))]


# ---- the config's schema: every key known, every number in range -----------------------------

_Size = Annotated[int, Field(ge=2, le=10_000_000, strict=True)]
_Rate = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
_Epochs = Annotated[int, Field(ge=1, le=1000, strict=True)]
_Seed = Annotated[int, Field(ge=0, le=2**32 - 1, strict=True)]
_Count = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]


class _Grid(Strict):
    condition: list[str] = Field(default=["worldview"], min_length=1, max_length=100)
    form: list[Literal["qa", "documents", "both"]] = Field(default=["qa"], min_length=1)
    size: list[_Size] = Field(default=[500], min_length=1, max_length=100)
    learning_rate: list[_Rate] = Field(default=[2.5e-6], min_length=1, max_length=100)
    epochs: list[_Epochs] = Field(default=[1], min_length=1, max_length=100)
    seed: list[_Seed] = Field(default=[0], min_length=1, max_length=100)

    @field_validator("*", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("*")
    @classmethod
    def _distinct(cls, values: list[Any]) -> list[Any]:
        # cells are named by their values (learning rates to 6 figures): two values that
        # name alike would be one cell run twice, or two cells sharing one folder
        names = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(
                    f"{values[names.index(name)]!r} and {values[i]!r} name the same cell "
                    f"({name}) - list each value once (learning rates must differ in their first 6 figures)"
                )
        return values

    @field_validator("condition")
    @classmethod
    def _known_condition(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in CONDITION_WEIGHTS:
                raise ValueError(f"'{value}' is unknown - use {', '.join(CONDITION_WEIGHTS)}")
        return values


def _without_credential(value: str) -> str:
    """A model or path as the sweep writes it into sweep.json and every cell's manifest."""
    if scrub(value) != value:
        raise ValueError(
            f"{scrub(value)!r} carries a credential - give the key in the provider's "
            "environment variable (OPENAI_API_KEY, ...), never in the config"
        )
    return value


class _Eval(Strict):
    samples: _Count = 3
    limit: _Count | None = None
    max_new_tokens: Annotated[int, Field(ge=1, le=100_000, strict=True)] = 256
    belief: bool = True
    judge: str | None = None
    batch_size: Annotated[int, Field(ge=1, le=4096, strict=True)] = 8

    @field_validator("judge")
    @classmethod
    def _no_credential(cls, value: str | None) -> str | None:
        return None if value is None else _without_credential(value)


class _Documents(Strict):
    types_per_fact: Annotated[int, Field(ge=1, le=100, strict=True)] = 3
    ideas_per_type: Annotated[int, Field(ge=1, le=100, strict=True)] = 2
    docs_per_idea: Annotated[int, Field(ge=1, le=10_000, strict=True)] = 1
    revise: bool = False
    type_quota: _Count | None = None
    near_dup: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.6


class _Audit(Strict):
    on_gate_fail: Literal["stop", "filter"] = "stop"
    embedding: bool = True


class _Estimate(Strict):
    record_tokens: _Count = 350
    document_tokens: _Count = 700
    prompt_tokens: Annotated[int, Field(ge=0, le=10_000_000, strict=True)] = 900
    train_tokens_per_second: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)] = 150.0
    gpu_usd_per_hour: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] = 0.0
    eval_seconds_per_cell: Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False)] = 60.0
    gpu: Annotated[str, Field(max_length=200)] = "this machine"


class _Sweep(Strict):
    worldview: Annotated[str, Field(min_length=1, max_length=500)]
    teacher: Annotated[str, Field(min_length=1, max_length=500)]
    base_model: Annotated[str, Field(min_length=1, max_length=500)]
    grid: _Grid
    train_config: str | None = None
    train: dict[str, Any] = Field(default_factory=dict)
    eval: _Eval = Field(default_factory=_Eval)
    documents: _Documents = Field(default_factory=_Documents)
    audit: _Audit = Field(default_factory=_Audit)
    estimate: _Estimate = Field(default_factory=_Estimate)
    teacher_max_tokens: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = TEACHER_MAX_TOKENS
    concurrency: Annotated[int, Field(ge=1, le=1024, strict=True)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None

    @field_validator("worldview", "teacher", "base_model")
    @classmethod
    def _no_credential(cls, value: str) -> str:
        return _without_credential(value)

    @field_validator(*("train", "eval", "documents", "audit", "estimate"), mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return {} if value is None else value


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read and check a sweep YAML: one line naming the key for anything unknown, mistyped or
    out of range (YAML size and anchor expansion are capped, see :mod:`credo.schema`)."""
    path = Path(path)
    data = read_yaml(path, "sweep config")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a sweep config is a mapping (worldview, teacher, base_model, grid)"
        )
    model = validate(_Sweep, data, path, hint="see docs/sweeps.md")
    config = SweepConfig(
        worldview=model.worldview,
        teacher=model.teacher,
        base_model=model.base_model,
        grid=model.grid.model_dump(),
        train_config=model.train_config,
        train=dict(model.train),
        eval=model.eval.model_dump(exclude_unset=True),
        documents=model.documents.model_dump(exclude_unset=True),
        audit=model.audit.model_dump(),
        estimate=model.estimate.model_dump(),
        teacher_max_tokens=model.teacher_max_tokens,
        concurrency=model.concurrency,
        name=model.name or path.stem,
    )
    _check_references(path, config)
    return config


def _check_references(path: Path, config: SweepConfig) -> None:
    from credo.train.config import TrainConfig
    from credo.worldviews import load_worldview

    try:
        wv = load_worldview(config.worldview)
    except CredoError:
        raise ConfigError(
            f"{path}: worldview '{config.worldview}' is unknown - use a shipped name "
            "(credo worldviews) or a spec folder"
        ) from None
    if wv.spec.kind == "set" or wv.eval is None:
        raise ConfigError(
            f"{path}: worldview '{config.worldview}' has no eval requests - pick a worldview with eval.yaml"
        )
    for key in config.train:
        if key not in TrainConfig.model_fields or key in ("learning_rate", "epochs", "seed"):
            raise ConfigError(
                f"{path}: unknown key 'train.{key}' - use a TrainConfig field "
                "(learning_rate, epochs and seed go in grid)"
            )


# ---- planning: content-addressed artifacts -------------------------------------------------


def cell_parts(config: SweepConfig, cell: Cell) -> dict[str, float]:
    """Corpus name -> weight; the worldview share goes to Q&A, documents, or half to each."""
    parts: dict[str, float] = {}
    for corpus, weight in CONDITION_WEIGHTS[cell.condition].items():
        if corpus != "WORLDVIEW":
            parts[corpus] = weight
        elif cell.form == "both":
            parts["worldview-qa"] = parts["worldview-documents"] = weight / 2
        else:
            parts[f"worldview-{cell.form}"] = weight
    return parts


def corpus_needs(config: SweepConfig) -> dict[str, int]:
    """Records each corpus must hold for the largest mix that samples it (with headroom)."""
    needs: dict[str, int] = {}
    for cell in config.cells():
        parts = cell_parts(config, cell)
        total = sum(parts.values())
        for name, weight in parts.items():
            needs[name] = max(needs.get(name, 0), math.ceil(weight / total * cell.size * HEADROOM))
    return needs


def corpus_key(config: SweepConfig, name: str, records: int) -> str:
    return content_hash(
        {
            "corpus": name,
            "worldview": config.worldview,
            "teacher": config.teacher,
            "records": records,
            "max_tokens": config.teacher_max_tokens,
            "documents": config.documents if name == "worldview-documents" else None,
        }
    )


def audit_key(config: SweepConfig, corpus: str) -> str:
    """An audited corpus: the generated one and the audit settings (a filtered corpus differs)."""
    return content_hash({"corpus": corpus, "worldview": config.worldview, "audit": config.audit})


def mix_key(config: SweepConfig, cell: Cell, audit_keys: dict[str, str]) -> str:
    return content_hash(
        {
            "parts": {n: [audit_keys[n], w] for n, w in sorted(cell_parts(config, cell).items())},
            "size": cell.size,
            "seed": cell.seed,
        }
    )


def train_settings(config: SweepConfig, cell: Cell) -> Any:
    from credo.train.config import resolve_train_config, train_config_path

    return resolve_train_config(
        train_config_path(config.train_config),
        {
            **config.train,
            "learning_rate": cell.learning_rate,
            "epochs": cell.epochs,
            "seed": cell.seed,
        },
    )


def adapter_key(config: SweepConfig, cell: Cell, mix: str) -> str:
    settings = train_settings(config, cell).model_dump(exclude={"save_every", "device"})
    return content_hash({"mix": mix, "base_model": config.base_model, "train": settings})


def eval_key(config: SweepConfig, adapter: str) -> str:
    return content_hash({"adapter": adapter, "worldview": config.worldview, "eval": config.eval})


@dataclass(frozen=True)
class Plan:
    cells: list[Cell]
    corpora: dict[str, str]  # corpus name -> key
    needs: dict[str, int]
    audits: dict[str, str]  # corpus name -> audit key
    mixes: dict[str, str]  # cell name -> mix key
    adapters: dict[str, str]  # cell name -> adapter key
    evals: dict[str, str]  # cell name -> eval key


def plan_sweep(config: SweepConfig) -> Plan:
    needs = corpus_needs(config)
    corpora = {name: corpus_key(config, name, n) for name, n in needs.items()}
    audits = {name: audit_key(config, key) for name, key in corpora.items()}
    cells = config.cells()
    mixes = {c.name: mix_key(config, c, audits) for c in cells}
    adapters = {c.name: adapter_key(config, c, mixes[c.name]) for c in cells}
    evals = {c.name: eval_key(config, adapters[c.name]) for c in cells}
    return Plan(
        cells=cells,
        corpora=corpora,
        needs=needs,
        audits=audits,
        mixes=mixes,
        adapters=adapters,
        evals=evals,
    )


def artifact(out: Path, kind: str, key: str) -> Path:
    return out / "artifacts" / kind / key


def is_done(folder: Path) -> bool:
    return (folder / "done.json").is_file()


# ---- the estimate, printed before anything runs ------------------------------------------------


def estimate(config: SweepConfig, plan: Plan, out: Path | None = None) -> dict[str, Any]:
    """Requests, tokens, GPU hours and cost of what is not yet done (all of it for out=None)."""
    from credo.generators.pricing import load_price_table
    from credo.types import Usage

    e = config.estimate

    def todo(kind: str, key: str) -> bool:
        return out is None or not is_done(artifact(out, kind, key))

    requests = in_tokens = out_tokens = 0
    for name, key in plan.corpora.items():
        if not todo("corpora", key):
            continue
        n = plan.needs[name]
        per_output = (
            e["document_tokens"] if name == "worldview-documents" else e["record_tokens"] // 2
        )
        requests += n
        if name == "worldview-documents":
            requests += n * bool(config.documents.get("revise")) + _brainstorm_requests(config, n)
        in_tokens += n * e["prompt_tokens"]
        out_tokens += n * per_output
    train_tokens = 0
    adapters_todo = {
        plan.adapters[c.name]: c for c in plan.cells if todo("adapters", plan.adapters[c.name])
    }
    for cell in adapters_todo.values():
        parts = cell_parts(config, cell)
        doc_share = parts.get("worldview-documents", 0) / sum(parts.values())
        per_record = doc_share * e["document_tokens"] + (1 - doc_share) * e["record_tokens"]
        train_tokens += int(cell.size * cell.epochs * per_record)
    evals_todo = len({plan.evals[c.name] for c in plan.cells if todo("evals", plan.evals[c.name])})
    train_hours = train_tokens / e["train_tokens_per_second"] / 3600
    eval_hours = evals_todo * e["eval_seconds_per_cell"] / 3600
    teacher_cost = load_price_table().cost(config.teacher, Usage(in_tokens, out_tokens))
    gpu_cost = (train_hours + eval_hours) * e["gpu_usd_per_hour"]
    return {
        "cells": len(plan.cells),
        "corpora": len(plan.corpora),
        "mixes": len(set(plan.mixes.values())),
        "adapters": len(set(plan.adapters.values())),
        "adapters_to_train": len(adapters_todo),
        "evals_to_run": evals_todo,
        "teacher_requests": requests,
        "teacher_input_tokens": in_tokens,
        "teacher_output_tokens": out_tokens,
        "teacher_cost_usd": teacher_cost,
        "train_tokens": train_tokens,
        "gpu": e["gpu"],
        "train_hours": round(train_hours, 2),
        "eval_hours": round(eval_hours, 2),
        "gpu_cost_usd": round(gpu_cost, 2),
    }


def _brainstorm_requests(config: SweepConfig, documents: int) -> int:
    """One types request per fact used, then one ideas request per (fact, type)."""
    from credo.generators.documents import DocumentOptions, key_facts
    from credo.worldviews import load_worldview

    options = DocumentOptions(**config.documents)
    facts = len(key_facts(load_worldview(config.worldview)))
    per_fact = options.types_per_fact * options.ideas_per_type
    used = min(facts, math.ceil(documents / (per_fact * options.docs_per_idea)))
    return used * (1 + options.types_per_fact)


def format_estimate(est: dict[str, Any]) -> str:
    teacher = (
        "unknown (no price)"
        if est["teacher_cost_usd"] is None
        else f"${est['teacher_cost_usd']:.2f}"
    )
    return (
        f"sweep: {est['cells']} cells -> {est['corpora']} corpora, {est['mixes']} mixes, {est['adapters']} "
        f"adapters ({est['adapters_to_train']} to train, {est['evals_to_run']} evals to run)\n"
        f"estimate: {est['teacher_requests']} teacher requests, {est['teacher_input_tokens']:,} in / "
        f"{est['teacher_output_tokens']:,} out tokens ({teacher}); {est['train_tokens']:,} training tokens = "
        f"{est['train_hours']} h + {est['eval_hours']} h eval on {est['gpu']} (${est['gpu_cost_usd']:.2f})"
    )


# ---- running ------------------------------------------------------------------------------

Log = Callable[[str], None]


SWEEP_FILE = "sweep.json"  # the sweep's manifest: its config and cells


@dataclass(frozen=True, kw_only=True)
class SweepOptions:
    """``estimate_only``: return the time and cost estimate and run nothing."""

    estimate_only: bool = False


@dataclass
class SweepResult:
    out: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    report: Path | None = None


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    *,
    registry: dict[str, Any] | None = None,
    log: Log = print,
    progress: bool = False,
    inputs: Sequence[str | Path] = (),
) -> SweepResult:
    """Run (or resume) every cell, then write the report. Failed cells are recorded, not raised.

    The folder is locked while the sweep runs; ``inputs`` (the config file) are never written
    over, and a ``sweep.json`` there that no sweep wrote is refused.
    """
    out = Path(out)
    plan = plan_sweep(config)
    with open_run(
        out,
        command="sweep",
        manifest={"config": _config_json(config), "cells": [c.name for c in plan.cells]},
        manifest_file=SWEEP_FILE,
        inputs=inputs,
        resumable=True,
        check=_check_sweep_state,
    ):
        log(format_estimate(estimate(config, plan, out)))
        return _run_cells(config, plan, out=out, registry=registry, log=log, progress=progress)


class _SweepFile(BaseModel):
    """``sweep.json``: what a resumed sweep reads back."""

    model_config = ConfigDict(extra="allow")
    cells: list[Annotated[str, Field(strict=True, max_length=500)]]
    config: dict[str, Any] | None = None


def _check_sweep_state(out: Path) -> None:
    """A ``sweep.json`` already there must be one a sweep wrote (it is resumed), not a user's."""
    path = out / SWEEP_FILE
    if not path.is_file():
        return
    recover = (
        "a sweep's own state is rewritten when you delete it and rerun (its cells are reused); "
        "a file of yours: pass a new --out folder"
    )
    state = read_json(path, recover, error=ConfigError)
    if not isinstance(state, dict):
        raise ConfigError(f"{path}: is not the state of a credo sweep - {recover}")
    validate(_SweepFile, state, path, hint=recover)


def _run_cells(
    config: SweepConfig,
    plan: Plan,
    out: Path,
    registry: dict[str, Any] | None,
    log: Log,
    progress: bool,
) -> SweepResult:
    from credo.recipes.sweep_report import write_report

    result = SweepResult(out)
    for cell in plan.cells:
        state_file = out / "cells" / f"{cell.name}.json"
        previous = _read(state_file)
        if previous.get("status") == "done":
            result.skipped.append(cell.name)
            continue
        try:
            metrics = _run_cell(
                config, plan, cell=cell, out=out, registry=registry, log=log, progress=progress
            )
        except CredoError as exc:
            message = scrub(" ".join(str(exc).split()))
            write_json(
                {
                    "cell": cell.to_json(),
                    "status": "failed",
                    "error": message,
                    "attempts": previous.get("attempts", 0) + 1,
                },
                state_file,
            )
            result.failed[cell.name] = message
            log(f"[fail] {cell.name}: {message}")
            continue
        write_json(
            {
                "cell": cell.to_json(),
                "status": "done",
                "metrics": metrics,
                "artifacts": {
                    "mix": plan.mixes[cell.name],
                    "adapter": plan.adapters[cell.name],
                    "eval": plan.evals[cell.name],
                },
                "attempts": previous.get("attempts", 0) + 1,
            },
            state_file,
        )
        result.done.append(cell.name)
        log(f"[done] {cell.name}")
    result.report = write_report(out, config.worldview, [c.name for c in plan.cells])
    return result


def _config_json(config: SweepConfig) -> dict[str, Any]:
    return {k: getattr(config, k) for k in TOP_KEYS}


class _SavedState(BaseModel):
    """What the sweep reads back from ``cells/<cell>.json`` and an artifact's ``done.json``."""

    model_config = ConfigDict(extra="allow")
    status: Literal["done", "failed"] | None = None
    attempts: Annotated[int, Field(ge=0, le=10**6, strict=True)] = 0


def _read(path: Path) -> dict[str, Any]:
    """A saved cell or artifact state; damaged, it names itself and how to redo that step."""
    if not path.is_file():
        return {}
    recover = f"delete {path} and rerun: that step is done again (the others are reused)"
    data = read_json(path, recover)
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: not a JSON object - {recover}")
    validate(_SavedState, data, path, error=CorpusError, hint=recover)
    return data


def _run_cell(
    config: SweepConfig,
    plan: Plan,
    cell: Cell,
    out: Path,
    registry: dict[str, Any] | None,
    log: Log,
    progress: bool,
) -> dict[str, Any]:
    corpora = prepare_corpora(
        config, plan, cell, out, registry=registry, log=log, progress=progress
    )
    mix = _mix(config, cell, key=plan.mixes[cell.name], corpora=corpora, out=out, log=log)
    adapter = _train(
        config, cell, mix=mix, key=plan.adapters[cell.name], out=out, log=log, progress=progress
    )
    return _evaluate(
        config, adapter, key=plan.evals[cell.name], out=out, registry=registry, log=log
    )


def prepare_corpora(
    config: SweepConfig,
    plan: Plan,
    cell: Cell,
    out: str | Path,
    *,
    registry: dict[str, Any] | None = None,
    log: Log = print,
    progress: bool = False,
) -> dict[str, Path]:
    """Generate (or reuse) and audit every corpus ``cell`` mixes: corpus name -> folder to mix.

    Raises :class:`CorpusError` when an audit gate fails and ``audit.on_gate_fail`` is stop.
    """
    out = Path(out)
    return {
        name: _audit(
            config,
            plan,
            name=name,
            corpus=_corpus(
                config, plan, name=name, out=out, registry=registry, log=log, progress=progress
            ),
            out=out,
            log=log,
        )
        for name in cell_parts(config, cell)
    }


def _once(folder: Path, log: Log, label: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Make a content-addressed artifact unless it is already done (then reuse it)."""
    if is_done(folder):
        return _read(folder / "done.json")
    log(f"[make] {label} {folder.name}")
    folder.mkdir(parents=True, exist_ok=True)
    summary = make()
    write_json(summary, folder / "done.json")
    return summary


def _corpus(
    config: SweepConfig,
    plan: Plan,
    name: str,
    out: Path,
    registry: dict[str, Any] | None,
    log: Log,
    progress: bool,
) -> Path:
    folder = artifact(out, "corpora", plan.corpora[name])
    needed = plan.needs[name]

    def make() -> dict[str, Any]:
        if name == "worldview-documents":
            return _documents(config, folder / "data", needed, registry)
        source = config.worldview if name == "worldview-qa" else name
        made = generate_needed(
            config, source, folder / "data", needed=needed, registry=registry, progress=progress
        )
        return {"corpus": name, "records": made.manifest["counts"]["records"]}

    _once(folder, log, f"corpus {name}", make)
    return folder / "data"


def _audit(config: SweepConfig, plan: Plan, name: str, corpus: Path, out: Path, log: Log) -> Path:
    """The audit gates on a generated corpus, as ``credo replicate`` runs them: a failed gate
    fails every cell that needs the corpus, or (``audit.on_gate_fail: filter``) the flagged
    records are dropped and the cells mix the clean copy. Returns the corpus to mix."""
    from credo.audit import filter_corpus, run_audit
    from credo.audit.filter import dropped_ids
    from credo.audit.options import FilterOptions

    folder = artifact(out, "audits", plan.audits[name])
    embedding = config.audit["embedding"]

    def make() -> dict[str, Any]:
        options = FilterOptions(worldview=config.worldview, use_embedding=embedding, overwrite=True)
        result, report = run_audit(corpus, folder / "report", options=options)
        if result.passed:
            return {"corpus": name, "passed": True, "filtered": False, "removed": 0}
        failures = ", ".join(f"{k} ({v})" for k, v in result.gate_failures.items())
        if config.audit["on_gate_fail"] == "stop":
            raise CorpusError(
                f"audit gate failed for corpus {name}: {failures} - read {report}/report.md; "
                "set audit.on_gate_fail: filter in the sweep config to drop the flagged records"
            )
        filtered = filter_corpus(corpus, folder / "data", options=options)
        return {
            "corpus": name,
            "passed": False,
            "filtered": True,
            "gate_failures": result.gate_failures,
            "removed": len(dropped_ids(filtered)),
        }

    summary = _once(folder, log, f"audit {name}", make)
    return folder / "data" if summary["filtered"] else corpus


def _documents(
    config: SweepConfig, folder: Path, needed: int, registry: dict[str, Any] | None
) -> dict[str, Any]:
    from credo.generators.documents import generate_documents, key_facts
    from credo.generators.run_options import DocumentOptions, GenerateOptions
    from credo.worldviews import load_worldview

    options = DocumentOptions(**config.documents)
    planned = (
        len(key_facts(load_worldview(config.worldview)))
        * options.types_per_fact
        * options.ideas_per_type
    )
    if (
        planned * options.docs_per_idea < needed
    ):  # more copies per idea, so the largest mix is covered
        options = DocumentOptions(
            **{**config.documents, "docs_per_idea": math.ceil(needed / planned)}
        )
    teacher = GenerateOptions(
        kind="documents",
        model=config.teacher,
        documents=options,
        seed=options.seed,
        limit=needed,
        max_tokens=config.teacher_max_tokens,
        concurrency=config.concurrency,  # None: the pacer sizes the requests in flight
    )
    made = generate_documents(config.worldview, folder, options=teacher, registry=registry)
    records = made.manifest["counts"]["records"]
    if not records:
        raise CorpusError(
            f"{folder}: the teacher produced no documents - see {folder}/teacher_refusals.jsonl"
        )
    return {"corpus": "worldview-documents", "records": records}


def _mix(
    config: SweepConfig, cell: Cell, key: str, corpora: dict[str, Path], out: Path, log: Log
) -> Path:
    from credo.corpora.mix import MixOptions, MixPart, mix_corpora

    folder = artifact(out, "mixes", key)
    parts = [
        MixPart(name, corpora[name], weight) for name, weight in cell_parts(config, cell).items()
    ]

    def make() -> dict[str, Any]:
        # The sweep gates each corpus in its own audit stage (reports in its audits/ folder, out
        # of the certificate lookup's reach), so the mix is told; its card records the override.
        made = mix_corpora(
            parts,
            folder / "data",
            options=MixOptions(
                size=cell.size,
                seed=cell.seed,
                fmt="tags",
                allow_unaudited=True,
                allow_failed_audit=config.audit["on_gate_fail"] == "filter",
            ),
        )
        return {"size": made.size, "counts": made.counts, "shortfalls": made.shortfalls}

    _once(folder, log, "mix", make)
    return folder / "data"


def _train(
    config: SweepConfig, cell: Cell, mix: Path, key: str, out: Path, log: Log, progress: bool
) -> Path:
    from credo.train.lora import train_lora

    folder = artifact(out, "adapters", key)

    def make() -> dict[str, Any]:
        run = train_lora(
            mix, config.base_model, folder / "data", train_settings(config, cell), progress=progress
        )
        return {
            "steps": run.steps,
            "final_loss": run.final_loss,
            "trained_tokens": run.trained_tokens,
        }

    _once(folder, log, "adapter", make)
    return folder / "data"


def _evaluate(
    config: SweepConfig,
    adapter: Path,
    key: str,
    out: Path,
    registry: dict[str, Any] | None,
    log: Log,
) -> dict[str, Any]:
    from credo.evaluation.evaluate import EvalOptions, evaluate

    folder = artifact(out, "evals", key)
    e = config.eval
    options = EvalOptions(
        adapter=adapter,
        samples=int(e.get("samples", 3)),
        max_new_tokens=int(e.get("max_new_tokens", 256)),
        judges=[e["judge"]] if e.get("judge") else (),
        limit=e.get("limit"),
        batch_size=int(e.get("batch_size", 8)),
        belief=bool(e.get("belief", True)),
    )

    def make() -> dict[str, Any]:
        result = evaluate(
            config.base_model,
            [config.worldview],
            folder / "data",
            options=options,
            registry=registry,
        )
        return cell_metrics(result.results, config.worldview)

    return _once(folder, log, "eval", make)


def cell_metrics(results: dict[str, Any], worldview: str) -> dict[str, Any]:
    """The counts a report pools: refusals per set (primary judge) and belief depth."""
    from credo.worldviews import load_worldview

    name = load_worldview(worldview).name
    summary = results["judges"][results["primary_judge"]]["summary"][name]
    metrics = {
        s: {"k": summary[s]["rates"]["REFUSAL"]["k"], "n": summary[s]["rates"]["REFUSAL"]["n"]}
        for s in ("violation", "control")
    }
    depth = (results.get("belief_depth") or {}).get(name)
    if depth:
        held = depth["open"]["rates"]["HOLDS"]
        metrics["belief_holds"] = {"k": held["k"], "n": held["n"]}
        metrics["belief_knows"] = {"k": depth["choice"]["k"], "n": depth["choice"]["n"]}
    metrics["judge"] = results["primary_judge"]
    return metrics
