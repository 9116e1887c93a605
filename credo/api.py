"""credo's Python API: one function per job, the same jobs as the CLI commands.

``import credo`` loads none of this until a name is used (``credo.__getattr__``), so the
CLI and ``import credo`` stay fast. Each function imports its machinery when called.
``credo.audit`` and ``credo.train`` are their packages, which are callable (see
:func:`credo.audit.audit` and :func:`credo.train.train`). Examples that run: ``docs/api.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credo.audit.result import AuditResult
    from credo.corpora.mix import MixPart, MixResult
    from credo.generators.corpus_run import GenerationResult
    from credo.recipes.sweep import SweepResult
    from credo.reports.viewer import ViewResult
    from credo.types import Record
    from credo.worldviews.loader import LoadedWorldview


def load_worldview(name_or_path: str | Path) -> LoadedWorldview:
    """A shipped worldview by name (``gramenism``) or a spec folder, validated."""
    from credo.worldviews import load_worldview as load

    return load(name_or_path)


def render_prompts(worldview: str | Path | LoadedWorldview) -> list[Any]:
    """The worldview's deterministic training prompt set (stable ids, template hashes)."""
    from credo.templates import render_prompts as render

    return render(worldview if not isinstance(worldview, str | Path) else load_worldview(worldview))


def read_records(path: str | Path) -> list[Record]:
    """The records of a corpus folder or JSONL file."""
    from credo.corpora import read_records as read

    return list(read(path))


def generate(
    source: str | Path, out: str | Path, *, model: str | None = None, **options: Any
) -> GenerationResult:
    """Generate (or resume) a corpus of teacher answers to a worldview's prompts into ``out``.

    ``options``: ``limit``, ``samples``, ``seed``, ``temperature``, ``max_tokens``,
    ``concurrency``, ``base_url``, ``use_cache``, ``progress`` (as ``credo generate``).
    """
    from credo.generators.corpus_run import generate_corpus

    return generate_corpus(source, out, model=model, **options)


def filter_corpus(
    path: str | Path,
    out: str | Path,
    *,
    worldview: str | None = None,
    eval_file: str | Path | None = None,
    checks: Sequence[str] | None = None,
    embedding: bool = True,
) -> AuditResult:
    """Write the clean corpus into ``out`` with rejected.jsonl (why each record went)."""
    from credo.audit.filter import filter_corpus as run

    return run(path, out, eval_file, worldview, checks, embedding)


def mix(
    parts: Sequence[str | MixPart],
    out: str | Path,
    *,
    size: int,
    seed: int = 0,
    fmt: str = "tags",
    tokenizer: str | None = None,
    on_short: str = "scale",
    allow_unaudited: bool = False,
    allow_failed_audit: bool = False,
) -> MixResult:
    """Sample parts (``"NAME=DIR:WEIGHT"``) by weight to exactly ``size`` records, shuffle, write
    ``out``. Each part needs a passing audit of its current records unless an override is set."""
    from credo.corpora.mix import mix_corpora, parse_part

    chosen = [parse_part(p) if isinstance(p, str) else p for p in parts]
    return mix_corpora(
        chosen,
        size,
        seed,
        fmt,
        Path(out),
        tokenizer,
        on_short,
        allow_unaudited=allow_unaudited,
        allow_failed_audit=allow_failed_audit,
    )


def judge(
    path: str | Path, out: str | Path, judges: Sequence[str] = ("offline",), **options: Any
) -> Any:
    """Label (request, response) pairs REFUSAL / DEFLECTION / ACCEPTANCE; ``.report`` has counts and kappa.

    ``options``: ``labels_field``, ``prompt_field``, ``response_field`` (as ``credo judge``).
    """
    from credo.judges.run import judge_file

    return judge_file(path, out, judges, **options)


def evaluate(model: str, worldviews: Sequence[str], out: str | Path, **options: Any) -> Any:
    """Sample K answers to each violation and control request, judge them, write results.json in ``out``."""
    from credo.evaluation.evaluate import evaluate as run

    return run(model, worldviews, out, **options)


def report(runs: Sequence[str | Path], out: str | Path, **options: Any) -> Any:
    """Compare eval runs (the first is the baseline): report.md/html/json and a chart in ``out``."""
    from credo.evaluation.report import report as run

    return run(runs, out, **options)


def check_leakage(
    worldview: str | Path, references: Sequence[str | Path], out: str | Path, **options: Any
) -> tuple[dict, int]:
    """Are a worldview's terms and texts already in ``references``? (report, exit code 0 or 1)."""
    from credo.leakage.check import check_leakage as run

    return run(worldview, references, out, **options)


def view(
    source: str | Path,
    *,
    out: str | Path | None = None,
    audit: str | Path | None = None,
    labels: str | Path | None = None,
) -> ViewResult:
    """Write one self-contained page (default ``<source>/view.html``) to browse records, flags and labels."""
    from credo.reports.viewer import write_view

    return write_view(source, out, audit=audit, labels=labels)


def sweep(
    config: str | Path, out: str | Path, *, estimate_only: bool = False, **options: Any
) -> SweepResult | dict[str, Any]:
    """Run (or resume) a dose-response sweep from a YAML config into ``out``; returns the cell outcomes.

    ``estimate_only=True`` returns the time and cost estimate (requests, tokens, GPU hours) and runs
    nothing, as ``credo sweep --estimate``. ``options``: ``log``, ``progress``.
    """
    from credo.recipes.sweep import estimate, load_sweep_config, plan_sweep, run_sweep

    settings = load_sweep_config(config)
    if estimate_only:
        return estimate(settings, plan_sweep(settings), Path(out))
    return run_sweep(settings, out, **options)
