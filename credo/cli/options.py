"""Option callbacks shared by commands."""

from __future__ import annotations

import math

import typer


def finite(value: float | None) -> float | None:
    """A float option refuses nan and inf (``--timeout nan`` would wait forever)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value
