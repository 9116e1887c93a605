"""credo's Python API: one function per CLI command, with the same options as data.

A command's options are a frozen dataclass (``AuditOptions``, ``MixOptions``, ...) that the
CLI builds from its flags and the library takes whole, so a script and a shell cannot
drift apart. ``import credo`` loads none of this until a name is used
(``credo.__getattr__``), and each function imports its machinery when called.
``credo.audit`` and ``credo.train`` are their packages, which are callable (see
:func:`credo.audit.audit` and :func:`credo.train.train`). Examples that run: ``docs/api.md``.

Command -> function: validate/worldviews -> :func:`validate`/:func:`shipped_worldviews`; prompts ->
:func:`render_prompts`/:func:`write_prompts`; show -> :func:`read_records`; new/lint/author
-> :func:`new`/:func:`lint`/:func:`author`; generate, batches, audit, filter
(:func:`filter_corpus`), mix, export (and the Hub), train, eval (:func:`evaluate`), report,
judge, leakage (:func:`check_leakage`), probe, view, demo, replicate, sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credo.audit.options import FilterOptions
    from credo.audit.result import AuditResult
    from credo.authoring.author import AuthorOptions, AuthorResult
    from credo.authoring.checkup import LintOptions, LintReport
    from credo.authoring.scaffold import NewOptions
    from credo.corpora.exporting import ExportOptions, ExportResult
    from credo.corpora.mix import MixOptions, MixPart, MixResult
    from credo.evaluation.evaluate import EvalOptions, EvalResult
    from credo.evaluation.report import ReportOptions, ReportResult
    from credo.generators.batch_run import BatchesOptions
    from credo.generators.corpus_run import GenerationResult
    from credo.generators.documents import DocumentsResult
    from credo.generators.options import GenerateOptions
    from credo.judges.run import JudgeOptions, JudgeRunResult
    from credo.leakage.check import LeakageOptions
    from credo.leakage.probe import ProbeOptions
    from credo.recipes.demo import DemoOptions, DemoResult
    from credo.recipes.replicate import ReplicateConfig, ReplicateResult
    from credo.recipes.sweep import SweepOptions, SweepResult
    from credo.reports.view_server import ViewServer
    from credo.reports.viewer import ViewOptions, ViewResult
    from credo.templates.summary import SpecSummary
    from credo.types import Prompt, Record
    from credo.worldviews.loader import LoadedWorldview

Log = Callable[[str], None]


def _quiet(line: str) -> None:
    """The default for commentary a command prints as it goes: a script reads the result."""


# --- worldviews and prompts: validate, worldviews, prompts, show


def load_worldview(name_or_path: str | Path) -> LoadedWorldview:
    """A shipped worldview by name (``gramenism``) or a spec folder, validated."""
    from credo.worldviews import load_worldview as load

    return load(name_or_path)


def validate(spec: str | Path) -> SpecSummary:
    """Validate a spec, its canon and eval sets, render its prompts; the counts (``credo validate``)."""
    from credo.templates.summary import summarise_spec

    return summarise_spec(spec)


def shipped_worldviews() -> list[SpecSummary]:
    """The shipped worldviews and sets with their counts (``credo worldviews``)."""
    from credo.templates.summary import summarise_spec
    from credo.worldviews import shipped_names

    return [summarise_spec(name) for name in shipped_names()]


def render_prompts(worldview: str | Path | LoadedWorldview) -> list[Prompt]:
    """The worldview's deterministic training prompt set (stable ids, template hashes)."""
    from credo.templates import render_prompts as render

    return render(worldview if not isinstance(worldview, str | Path) else load_worldview(worldview))


def write_prompts(worldview: str | Path | LoadedWorldview, out: str | Path) -> list[Prompt]:
    """Render the prompt set and write it to the JSONL file ``out`` (``credo prompts``)."""
    from credo.runs import check_output_file, output_file_lock
    from credo.templates import write_prompts as write

    out = check_output_file(out, suffixes=(".jsonl",))
    with output_file_lock(out, "credo prompts"):
        _refuse_other_jsonl(Path(out))
        prompts = render_prompts(worldview)
        write(prompts, Path(out))
    return prompts


def _refuse_other_jsonl(path: Path) -> None:
    """An existing file is replaced only when it is an earlier prompt set: ``--out
    corpus/records.jsonl`` replaced a corpus's records with prompts."""
    import json

    from credo.errors import ConfigError

    if not path.is_file() or not path.stat().st_size:
        return
    with path.open("rb") as handle:
        first = handle.readline(1_000_000)
    try:
        row = json.loads(first)
    except ValueError:
        row = None
    if not (isinstance(row, dict) and "template_id" in row and "text" in row):
        raise ConfigError(
            f"--out {path}: holds something other than a prompt set - pass a new file "
            "(credo prompts replaces only its own earlier output)"
        )


def read_records(path: str | Path) -> list[Record]:
    """The records of a corpus folder or JSONL file (``credo show`` prints a few)."""
    from credo.corpora import read_records as read

    return list(read(path))


# --- authoring: new, lint, author


def new(name: str, out: str | Path | None = None, *, options: NewOptions | None = None) -> Path:
    """Scaffold a commented spec folder that validates at once (default ``./NAME``)."""
    from credo.authoring.scaffold import NewOptions, scaffold_worldview

    return scaffold_worldview(name, Path(out or name), (options or NewOptions()).kind)


def lint(spec: str | Path, *, options: LintOptions | None = None) -> LintReport:
    """Every finding about a spec, each naming its line; ``.exit_code`` as ``credo lint``."""
    from credo.authoring.checkup import lint_spec

    return lint_spec(spec, options=options)


def author(
    premise: str | None,
    out: str | Path,
    *,
    options: AuthorOptions | None = None,
    log: Log = _quiet,
) -> AuthorResult:
    """Author an invented worldview from a premise, step by validated step, into ``out``;
    ``.novelty`` lists its terms found in the reference texts."""
    from dataclasses import replace

    from credo.authoring.author import AuthorOptions, author_worldview
    from credo.authoring.checkup import novelty

    o = options or AuthorOptions()
    result = author_worldview(premise, Path(out), options=o, progress=log)
    found = novelty(load_worldview(out), list(o.references))
    return replace(result, novelty=[str(f) for f in found])


# --- data: generate, batches, audit, filter, mix, export


def generate(
    source: str | Path,
    out: str | Path,
    *,
    options: GenerateOptions | None = None,
    progress: bool = True,
    log: Log = _quiet,
) -> GenerationResult | DocumentsResult:
    """Generate (or resume) a corpus of teacher answers (or documents) into ``out``."""
    from credo.generators.options import run_generate

    return run_generate(source, out, options=options, progress=progress, report=log)


def batches(out: str | Path, *, options: BatchesOptions | None = None) -> dict:
    """The provider batches of a ``generate`` run with ``batch=True``, live (``credo batches``)."""
    from credo.generators.batch_run import BatchesOptions, inspect_batches

    o = options or BatchesOptions()
    return inspect_batches(Path(out), cancel=o.cancel, base_url=o.base_url)


def filter_corpus(
    path: str | Path,
    out: str | Path,
    *,
    options: FilterOptions | None = None,
    progress: Log | None = None,
) -> AuditResult:
    """Write the clean corpus into ``out`` with rejected.jsonl (why each record went);
    ``progress`` hears the audit's progress lines."""
    from credo.audit.filter import filter_corpus as run

    return run(path, out, options=options, progress=progress)


def mix(parts: Sequence[str | MixPart], out: str | Path, *, options: MixOptions) -> MixResult:
    """Sample parts (``"NAME=DIR:WEIGHT"``) by weight to exactly ``options.size`` records, shuffle, write ``out``.
    Each part needs a passing audit of its current records unless ``options`` overrides it."""
    from credo.corpora.mix import mix_corpora, parse_part

    chosen = [parse_part(p) if isinstance(p, str) else p for p in parts]
    return mix_corpora(chosen, out, options=options)


def export(
    corpus: str | Path, out: str | Path | None = None, *, options: ExportOptions
) -> ExportResult:
    """A corpus or mix as a Hub dataset folder (``hub=True``; ``push=`` uploads it) or one trainer format."""
    from credo.corpora.exporting import export_corpus

    return export_corpus(corpus, out, options=options)


# --- experiments: judge, eval, report, leakage, probe, view, demo, replicate, sweep


def judge(
    path: str | Path, out: str | Path, *, options: JudgeOptions | None = None, log: Log = _quiet
) -> JudgeRunResult:
    """Label (request, response) pairs REFUSAL / DEFLECTION / ACCEPTANCE; ``.report`` has counts and kappa.

    ``path`` is a JSONL of pairs or an Inspect eval log. Uncertain pairs (and
    ``options.review_sample`` random others) go to ``out/review.csv``; ``options.human``
    (that file filled in) adds each judge's agreement with a person to the report."""
    from credo.evaluation.inspect_logs import pairs_file
    from credo.judges.run import judge_file

    with pairs_file(Path(path)) as pairs:
        return judge_file(pairs, out, options=options, log=log)


def evaluate(
    model: str,
    worldviews: Sequence[str],
    out: str | Path,
    *,
    options: EvalOptions | None = None,
    log: Log = _quiet,
) -> EvalResult:
    """Sample answers to each violation and control request, judge them, write results.json in ``out``.

    ``log`` hears the batch API's news (``options.batch``); a scripted or unlisted backend
    goes through :func:`credo.evaluation.evaluate.evaluate`'s ``registry``."""
    from credo.evaluation.evaluate import evaluate as run

    return run(model, worldviews, out, options=options, log=log)


def report(
    runs: Sequence[str | Path], out: str | Path, *, options: ReportOptions | None = None
) -> ReportResult:
    """Compare eval runs (the first is the baseline): report.md/html/json and a chart in ``out``."""
    from credo.evaluation.report import report as run

    return run(runs, out, options=options)


def check_leakage(
    worldview: str | Path,
    references: Sequence[str | Path],
    out: str | Path,
    *,
    options: LeakageOptions | None = None,
    log: Log = _quiet,
) -> tuple[dict[str, Any], int]:
    """Are a worldview's terms and texts already in ``references``? (report, exit code 0 or 1)."""
    from credo.leakage.check import check_leakage as run

    return run(worldview, references, out, options=options, log=log)


def probe(
    worldview: str | Path, out: str | Path, *, options: ProbeOptions | None = None
) -> dict[str, Any]:
    """What a model already knows about a worldview: answers and per-token loss (``credo probe``)."""
    from credo.leakage.probe import run_probe

    return run_probe(worldview, out, options=options)


def view(
    source: str | Path, out: str | Path | None = None, *, options: ViewOptions | None = None
) -> ViewResult:
    """Write one self-contained page (default ``<source>/view.html``) to browse records, flags and labels."""
    from credo.reports.viewer import write_view

    return write_view(source, out, options=options)


def serve_view(
    source: str | Path, *, options: ViewOptions | None = None, port: int = 8000
) -> ViewServer:
    """``credo view --serve``: index ``source`` (once, in ``$CREDO_HOME``) and bind a server on
    127.0.0.1 that pages and filters the records server-side. ``port=0`` picks a free port.
    The caller serves it: ``server.serve_forever()`` (or in a thread), then
    ``server.shutdown()``; ``server.url`` is its address, ``server.index.records`` the count."""
    from credo.reports.view_server import serve_index
    from credo.reports.viewer import ViewOptions

    o = options or ViewOptions()
    return serve_index(
        Path(source),
        Path(o.audit) if o.audit else None,
        Path(o.labels) if o.labels else None,
        port,
    )


def demo(out: str | Path, *, options: DemoOptions | None = None) -> DemoResult:
    """Generate a small corpus, audit it and write its page (``credo demo``); ``.audit.passed`` is the gate."""
    from credo.recipes.demo import run_demo

    return run_demo(out, options=options)


def replicate(config: ReplicateConfig, *, log: Log = _quiet) -> ReplicateResult:
    """The whole experiment as one resumable recipe: generate, audit, mix, train, evaluate, report."""
    from credo.recipes.replicate import replicate as run

    return run(config, log=log)


def sweep(
    config: str | Path,
    out: str | Path,
    *,
    options: SweepOptions | None = None,
    log: Log = _quiet,
) -> SweepResult | dict[str, Any]:
    """Run (or resume) a dose-response sweep from a YAML config into ``out``; returns the cell outcomes.

    ``SweepOptions(estimate_only=True)`` returns the time and cost estimate (requests, tokens, GPU hours) and
    runs nothing, as ``credo sweep --estimate``.
    """
    from credo.recipes.sweep import estimate, load_sweep_config, plan_sweep, run_sweep

    settings = load_sweep_config(config)
    if options is not None and options.estimate_only:
        return estimate(settings, plan_sweep(settings), Path(out))
    return run_sweep(settings, out, log=log, inputs=[config])  # the config is never written over


def _quiet_entry_points() -> None:
    """Every public function above runs with third-party progress bars off (unless verbose;
    see :mod:`credo.quiet`), as the commands do: one switch, not one per function."""
    import inspect

    from credo.quiet import quiet_call

    module = globals()
    for name, value in list(module.items()):
        if inspect.isfunction(value) and value.__module__ == __name__ and not name.startswith("_"):
            module[name] = quiet_call(value)


_quiet_entry_points()
