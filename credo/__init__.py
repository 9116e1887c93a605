"""credo: build and audit the training data of belief -> behaviour experiments.

The API functions (``credo.generate``, ``credo.audit``, ``credo.mix``, ...) live in
:mod:`credo.api` and load on first use, so ``import credo`` and ``credo --help`` stay fast.
"""

from credo.errors import CredoError
from credo.hashing import canonical_json, content_hash
from credo.types import Completion, Message, Prompt, Record, Usage

__version__ = "0.1.0"

# Names served lazily from credo.api. `audit` and `train` are also subpackages, made
# callable (credo/_callable.py) so the name means the same whichever was imported first.
API = (
    "audit",
    "author",
    "batches",
    "check_leakage",
    "demo",
    "evaluate",
    "export",
    "filter_corpus",
    "generate",
    "judge",
    "lint",
    "load_worldview",
    "mix",
    "new",
    "probe",
    "read_records",
    "render_prompts",
    "replicate",
    "report",
    "serve_view",
    "shipped_worldviews",
    "sweep",
    "train",
    "validate",
    "view",
    "write_prompts",
)
# Each command's options as data (what the CLI builds from its flags), served lazily too.
OPTIONS = {
    "AuditOptions": "credo.audit.options",
    "AuthorOptions": "credo.authoring.author",
    "BatchesOptions": "credo.generators.batch_run",
    "DemoOptions": "credo.recipes.demo",
    "DocumentOptions": "credo.generators.run_options",
    "EvalOptions": "credo.evaluation.evaluate",
    "ExportOptions": "credo.corpora.exporting",
    "FilterOptions": "credo.audit.options",
    "GenerateOptions": "credo.generators.run_options",
    "JudgeOptions": "credo.judges.run",
    "LeakageOptions": "credo.leakage.check",
    "LintOptions": "credo.authoring.checkup",
    "MixOptions": "credo.corpora.mix",
    "MixPart": "credo.corpora.mix",
    "NewOptions": "credo.authoring.scaffold",
    "ProbeOptions": "credo.leakage.probe",
    "ReplicateConfig": "credo.recipes.replicate",
    "ReportOptions": "credo.evaluation.report",
    "SweepOptions": "credo.recipes.sweep",
    "ViewOptions": "credo.reports.viewer",
}
_CALLABLE_PACKAGES = ("audit", "train")

__all__ = [
    "Completion",
    "CredoError",
    "Message",
    "Prompt",
    "Record",
    "Usage",
    "canonical_json",
    "content_hash",
    "__version__",
    *API,
    *OPTIONS,
]


def __getattr__(name: str):
    import importlib

    if name in _CALLABLE_PACKAGES:
        return importlib.import_module(f"credo.{name}")
    if name in OPTIONS:
        return getattr(importlib.import_module(OPTIONS[name]), name)
    if name in API:
        value = getattr(importlib.import_module("credo.api"), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'credo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API) | set(OPTIONS))
