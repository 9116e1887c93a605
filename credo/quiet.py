"""Third-party chatter (download, load and map progress bars, advisory warnings) off unless
verbose output is asked for: a command's own output and credo's own progress are what a
reader needs, at the shell and in a script alike.

Two switches, one state:

- :func:`set_third_party_output` is the CLI's ``--verbose``: environment variables reach
  libraries imported later and child processes; libraries already imported are switched
  through their own APIs. Values the user set are left alone.
- :func:`library_bars_off` holds every tqdm bar a library opens while it is active, and
  wraps each public function of the Python API (:mod:`credo.api`, ``credo.audit``,
  ``credo.train``), so a caller sees no transformers, sentence-transformers, datasets or
  model2vec bar either. credo's own bars (generation, sampling, training) still draw.

Verbose output: ``--verbose`` on the command line, ``CREDO_VERBOSE=1`` in the environment, or
``set_third_party_output(verbose=True)`` in a script.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

QUIET_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # huggingface_hub; transformers follows it
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_VERBOSITY": "error",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "DATASETS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",  # its fork warning
}
NOISY_MODULES = (
    r"(transformers|datasets|huggingface_hub|sentence_transformers|peft|trl|torch)(\.|$)"
)
_set_by_us: set[str] = set()
_verbose: bool | None = None  # None: as CREDO_VERBOSE says


def is_verbose() -> bool:
    """Whether third-party bars and warnings are let through."""
    if _verbose is not None:
        return _verbose
    return os.environ.get("CREDO_VERBOSE", "").lower() in ("1", "true", "yes")


def set_third_party_output(verbose: bool) -> None:
    """Silence third-party progress bars and warnings (``verbose=False``) or let them through."""
    global _verbose
    _verbose = verbose
    for name, value in QUIET_ENV.items():
        if not verbose and name not in os.environ:
            os.environ[name] = value
            _set_by_us.add(name)
        elif verbose and name in _set_by_us:
            os.environ.pop(name, None)
            _set_by_us.discard(name)
    _switch_loaded_libraries(verbose)
    warnings.filterwarnings("default" if verbose else "ignore", module=NOISY_MODULES)


def _switch_loaded_libraries(verbose: bool) -> None:
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import utils as hub

        (hub.enable_progress_bars if verbose else hub.disable_progress_bars)()
    if "datasets" in sys.modules:
        from datasets.utils import logging as ds

        (ds.enable_progress_bar if verbose else ds.disable_progress_bar)()
        ds.set_verbosity(ds.WARNING if verbose else ds.ERROR)
    if "transformers" in sys.modules:
        from transformers.utils import logging as tf

        (tf.enable_progress_bar if verbose else tf.disable_progress_bar)()
        tf.set_verbosity(tf.WARNING if verbose else tf.ERROR)


# How many callers are inside library_bars_off (API calls nest, and may run in threads):
# tqdm is patched on the first entry and restored on the last exit.
_holders = 0
_lock = threading.Lock()
_original_init: Any = None


def _from_credo() -> bool:
    """Whether the tqdm being made is credo's own: the code that called its constructor."""
    caller = sys._getframe(2)  # 0: this function, 1: the patched __init__, 2: the caller
    return str(caller.f_globals.get("__name__", "")).startswith("credo.")


@contextmanager
def library_bars_off() -> Iterator[None]:
    """Inside, unless verbose: every tqdm bar a library opens is off, including those libraries
    draw straight with tqdm and no switch of their own (transformers' GGUF conversion,
    model2vec's distillation); bars credo itself opens still draw."""
    global _holders, _original_init
    if is_verbose():
        yield
        return
    from tqdm import std

    with _lock:
        if _holders == 0:
            _original_init = original = std.tqdm.__init__

            def silent(self: Any, *args: Any, **kwargs: Any) -> None:
                if not _from_credo():
                    kwargs["disable"] = True
                original(self, *args, **kwargs)

            std.tqdm.__init__ = silent
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                std.tqdm.__init__ = _original_init


P = ParamSpec("P")
R = TypeVar("R")


def quiet_call(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run inside :func:`library_bars_off` (an API entry point)."""

    @functools.wraps(function)
    def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
        with library_bars_off():
            return function(*args, **kwargs)

    return quiet
