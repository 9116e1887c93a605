"""Option callbacks shared by commands."""

from __future__ import annotations

import math

import typer

from credo.errors import ConfigError


def finite(param: typer.CallbackParam, value: float | None) -> float | None:
    """A float option refuses nan and inf (``--timeout nan`` would wait forever)."""
    if value is not None and not math.isfinite(value):
        option = (param.opts or [param.name or "option"])[0]
        raise ConfigError(f"{option} {value}: not a finite number - pass a plain number")
    return value
