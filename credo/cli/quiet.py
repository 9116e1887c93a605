"""Third-party chatter (download and map progress bars, advisory warnings) off unless
``--verbose``: a command's own output and credo's progress are what a reader needs.

Environment variables reach libraries imported later (commands import them lazily) and
child processes; libraries already imported are switched through their own APIs. Values
the user set are left alone."""

from __future__ import annotations

import os
import sys
import warnings

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


def set_third_party_output(verbose: bool) -> None:
    """Silence third-party progress bars and warnings (``verbose=False``) or let them through."""
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
