"""Every check, registered once: its name, how to build it, and what the audit does with it.

Adding a check is one row in :data:`CHECKS` (the order of the table is the order the audit
runs and reports them). The audit, ``credo filter``, ``--checks`` and ``--no-embedding`` all
read this table; nothing else lists checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from credo.errors import ConfigError
from credo.filters.base import Check
from credo.filters.contamination import EvalContaminationCheck
from credo.filters.dedup import NearDuplicateCheck, SemanticDuplicateCheck
from credo.filters.diversity import DiversityCheck
from credo.filters.fidelity import FidelityCheck
from credo.filters.forbidden import ForbiddenRequestCheck
from credo.filters.moral_reason import MoralReasonCheck
from credo.filters.refusal import RefusalCheck
from credo.filters.structure import StructureCheck
from credo.filters.truncation import TruncationCheck

# "none": never embeds; "optional": built with use_embedding (lexical-only without the model);
# "required": nothing to do without the model, so --no-embedding skips it.
Embedding = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    make: Callable[..., Check]  # the check class (or any factory)
    gate: bool  # a blocking finding fails the audit
    drops: bool  # `credo filter` drops the records it flags
    embedding: Embedding = "none"

    def build(self, embed: bool, **options: Any) -> Check:
        """The check; ``options`` are its own settings (the fidelity gate's rate, an LLM judge),
        and may turn its embedding stage off (``use_embedding``) but never on without ``embed``."""
        if self.embedding == "optional":
            options = {**options, "use_embedding": embed and options.get("use_embedding", True)}
        return self.make(**options)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "structure", StructureCheck, gate=True, drops=True
    ),  # turn markers in text: forged turns
    CheckSpec("refusal", RefusalCheck, gate=True, drops=True, embedding="optional"),
    CheckSpec("moral_reason", MoralReasonCheck, gate=True, drops=True),
    # answers the teacher stopped at max tokens (meta.stop_reason "length"): cut off mid-thought
    CheckSpec("truncation", TruncationCheck, gate=True, drops=True),
    CheckSpec(
        "forbidden_request", ForbiddenRequestCheck, gate=True, drops=True, embedding="optional"
    ),
    CheckSpec("near_duplicate", NearDuplicateCheck, gate=False, drops=True),
    CheckSpec(
        "semantic_duplicate", SemanticDuplicateCheck, gate=False, drops=True, embedding="required"
    ),
    CheckSpec(
        "eval_contamination", EvalContaminationCheck, gate=True, drops=True, embedding="optional"
    ),
    # Answers out of the worldview's voice: a gate, but `credo filter` keeps them - the offline
    # detector calls about 1 in 5 of a Catholic-trained model's real refusals out of voice
    # (BENCHMARKS.md, not yet checked by hand): too uncertain to drop records unseen.
    CheckSpec("fidelity", FidelityCheck, gate=True, drops=False),
    CheckSpec("diversity", DiversityCheck, gate=False, drops=False),  # a diagnostic: report only
)
_BY_NAME = {spec.name: spec for spec in CHECKS}
CHECK_NAMES = tuple(_BY_NAME)


def check_spec(name: str) -> CheckSpec:
    """The registration of a check by name; an unknown name lists the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(
            f"--checks: unknown check {name!r} - expected one of {', '.join(CHECK_NAMES)}"
        ) from None


EMBEDDING_MODES = ("fast", "minilm", "static")


def embedding_options(mode: str) -> dict[str, dict[str, Any]]:
    """Per-check settings for an embedding mode: ``fast`` (the default: the static model
    proposes, MiniLM confirms), ``minilm`` (MiniLM reads everything) or ``static`` (the static
    model decides at its own thresholds; no MiniLM, so no torch: the million-record setting;
    forbidden_request is then lexical)."""
    from credo.filters.contamination import ContaminationConfig
    from credo.filters.dedup import SemanticConfig

    if mode not in EMBEDDING_MODES:
        raise ConfigError(f"--embedding {mode!r}: expected one of {', '.join(EMBEDDING_MODES)}")
    if mode == "fast":
        return {}
    fast, confirm = mode != "minilm", mode != "static"
    options: dict[str, dict[str, Any]] = {
        "refusal": {"fast": fast, "confirm": confirm},
        "semantic_duplicate": {"config": SemanticConfig(fast=fast, confirm=confirm)},
        "eval_contamination": {"config": ContaminationConfig(fast=fast, confirm=confirm)},
    }
    if mode == "static":
        options["forbidden_request"] = {"use_embedding": False}
    return options


def build_checks(
    names: Sequence[str] | None = None,
    use_embedding: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Check]:
    """Checks by name (default: all), in table order; without the embedding model the checks
    that need it are left out. ``options`` maps a check's name to its constructor settings."""
    chosen = {check_spec(n).name for n in names} if names else set(CHECK_NAMES)
    options = options or {}
    return [
        spec.build(use_embedding, **options.get(spec.name, {}))
        for spec in CHECKS
        if spec.name in chosen and (use_embedding or spec.embedding != "required")
    ]
