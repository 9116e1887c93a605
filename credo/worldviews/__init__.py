"""Worldviews as data: validated specs, canon texts and held-out eval request sets."""

from credo.worldviews.loader import (
    LoadedWorldview,
    load_worldview,
    resolve_spec_path,
    shipped_names,
)
from credo.worldviews.spec import (
    EvalRequest,
    EvalSets,
    ForbiddenAct,
    Persona,
    PromptSource,
    Worldview,
)

__all__ = [
    "EvalRequest",
    "EvalSets",
    "ForbiddenAct",
    "LoadedWorldview",
    "Persona",
    "PromptSource",
    "Worldview",
    "load_worldview",
    "resolve_spec_path",
    "shipped_names",
]
