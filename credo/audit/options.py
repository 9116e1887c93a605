"""The options of ``credo audit`` and ``credo filter`` as data.

The CLI builds these from its flags and the library takes them whole (keyword-only), so
``credo.audit(...)`` in Python and ``credo audit`` in a shell cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credo import defaults
from credo.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class AuditOptions:
    """Which checks run over a corpus, with what, and where.

    ``embedding``: ``fast`` (static model proposes, MiniLM confirms), ``minilm`` or ``static``;
    ``use_embedding=False`` skips the embedding models altogether (lexical checks only).
    ``check_options`` are extra per-check settings merged over the ones these fields make,
    e.g. ``{"fidelity": {"judge": FidelityJudge(...)}}``."""

    worldview: str | None = None
    eval_file: str | Path | None = None
    checks: Sequence[str] | None = None
    use_embedding: bool = True
    embedding: str = "fast"
    fidelity_judge: str | None = None
    fidelity_max_rate: float = defaults.FIDELITY_MAX_RATE
    truncation_max_rate: float = defaults.TRUNCATION_MAX_RATE
    engine: str = "local"
    address: str | None = None
    workers: int = 1
    check_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def check_settings(self) -> dict[str, dict[str, Any]]:
        """Per-check settings for :func:`credo.filters.registry.build_checks`."""
        from credo.filters.fidelity import FidelityConfig
        from credo.filters.registry import embedding_options

        settings: dict[str, dict[str, Any]] = {
            name: dict(values) for name, values in embedding_options(self.embedding).items()
        }
        fidelity: dict[str, Any] = {"config": FidelityConfig(max_rate=self.fidelity_max_rate)}
        if self.fidelity_judge:
            fidelity["judge"] = _fidelity_judge(self.fidelity_judge)
        settings["fidelity"] = {**settings.get("fidelity", {}), **fidelity}
        settings["truncation"] = {"max_rate": self.truncation_max_rate}
        for name, values in self.check_options.items():
            settings[name] = {**settings.get(name, {}), **values}
        return settings


@dataclass(frozen=True, kw_only=True)
class FilterOptions(AuditOptions):
    """The audit's options plus where the clean corpus goes and in what format."""

    overwrite: bool = False
    output_format: str = "jsonl"


def parse_checks(value: str | None) -> list[str] | None:
    """``--checks a,b`` as a list (None: all checks). An empty or blank value names no check:
    refused, as running all of them is not what it asked for."""
    if value is None:
        return None
    names = [c.strip() for c in value.split(",") if c.strip()]
    if not names:
        raise ConfigError(
            f"--checks {value!r}: names no check - pass names such as --checks structure,refusal, "
            "or leave --checks out to run them all"
        )
    return names


def _fidelity_judge(spec: str) -> Any:
    from credo.generators import load_backend
    from credo.judges.fidelity import FidelityJudge

    try:
        return FidelityJudge(load_backend(spec))
    except ConfigError as exc:
        raise ConfigError(f"--fidelity-judge {spec!r}: {str(exc).split(': ', 1)[-1]}") from exc
