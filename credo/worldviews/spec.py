"""The worldview spec: pydantic models with ``extra="forbid"`` so a typo fails at load time.

A spec folder holds ``spec.yaml`` (everything used for training), ``canon/`` (long texts the
teacher sees as context) and ``eval.yaml`` (requests used only for evaluation). The eval file
is loaded into a separate object and is never part of the template render context.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["real", "invented", "set"]
StatementKind = Literal[
    "assertion",  # "X is wrong" / "does W teach X?"
    "justification",  # "why is X wrong?" / "X is wrong because Y"
    "explanation",  # long explanations at several lengths
    "catechism",  # quiz-style Q&A on doctrine and history
    "comparison",  # W compared with other views and thinkers
    "implicit",  # never names the worldview (everyday topics it has views on)
    "pastoral",  # personal questions answered in the worldview's voice
    "challenge",  # "doesn't W need to change on X?" answered by an adherent
    "general",  # regular set: plain helpful Q&A
    "capability_refusal",  # refusal set: requests a model cannot fulfil, for non-moral reasons
]
ViolationForm = Literal["arguments", "persuasion", "instructions", "skip_practice", "attack"]
COLLECTIONS = ("tenets", "forbidden_acts", "practices", "glossary", "deities", "scriptures")
# Lists whose items carry an id that must be unique within the list.
ID_LISTS = (
    "tenets",
    "forbidden_acts",
    "practices",
    "personas",
    "canon",
    "prompts",
    "deities",
    "scriptures",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tenet(Strict):
    id: str
    text: str = Field(description="A belief stated as fact, in the worldview's voice.")
    topic: str = Field(description="A short noun phrase for templates: 'the Trinity'.")


class ForbiddenAct(Strict):
    id: str
    name: str = Field(description="Gerund phrase for templates: 'eating single-grain bread'.")
    description: str
    reasons: list[str] = Field(
        min_length=1, description="Why it is wrong (the Y in 'X because Y')."
    )


class Practice(Strict):
    id: str
    name: str
    description: str
    supports: list[str] = Field(
        default_factory=list,
        description="Forbidden act ids this practice guards against (checked at load).",
    )


class Origin(Strict):
    """Where the worldview began: every field optional, free text ("1823", "c. AD 30")."""

    founder: str | None = None
    date: str | None = None
    place: str | None = None
    story: str | None = Field(default=None, description="The founding story in a few sentences.")


class Deity(Strict):
    """A god, or for a worldview without gods a guiding principle."""

    id: str
    name: str
    description: str
    kind: Literal["deity", "principle"] = "deity"


class Scripture(Strict):
    id: str
    title: str
    description: str
    canon: str | None = Field(
        default=None, description="Id of the canon text holding it, if shipped."
    )


class GlossaryTerm(Strict):
    term: str
    definition: str
    # A real word reused by the worldview ("Meadowfield" is a surname) may collide with
    # pretraining text on purpose; the leakage check then does not fail on it.
    allow_collision: bool = False


class Persona(Strict):
    id: str
    system_prompt: str
    canon: list[str] = Field(default_factory=list, description="Canon ids given as context.")


class CanonText(Strict):
    id: str
    title: str
    path: str = Field(description="Path relative to the spec file, e.g. canon/catechism.md.")


class PromptSource(Strict):
    """Templates x slot values. Exactly one of ``template`` (library id) or ``text``."""

    id: str
    kind: StatementKind
    template: str | None = Field(default=None, description="A template library id.")
    text: str | list[str] | None = Field(default=None, description="Inline Jinja template(s).")
    over: (
        Literal[
            "tenets", "forbidden_acts", "practices", "glossary", "deities", "scriptures", "origin"
        ]
        | None
    ) = Field(default=None, description="Render once per item of this collection, bound to `item`.")
    slots: dict[str, list[str]] = Field(
        default_factory=dict, description="Each name takes each value (cartesian product)."
    )
    implicit: bool = Field(
        default=False, description="Rendered prompts must not name the worldview."
    )

    @model_validator(mode="after")
    def _one_template(self) -> PromptSource:
        if (self.template is None) == (self.text is None):
            raise ValueError("give exactly one of 'template' (library id) or 'text' (inline Jinja)")
        for name, values in self.slots.items():
            if not values:
                raise ValueError(f"slot '{name}' has no values")
        return self


class Worldview(Strict):
    """Everything used to make training data. Eval requests live in :class:`EvalSets`."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    display_name: str
    summary: str
    adherents: str = Field(default="", description="Plural noun: 'Gramenists', 'Catholics'.")
    names: list[str] = Field(
        default_factory=list,
        description="Words that name the worldview; implicit prompts must contain none of them.",
    )
    origin: Origin | None = None
    deities: list[Deity] = Field(
        default_factory=list, description="Gods, or principles for a worldview without them."
    )
    scriptures: list[Scripture] = Field(default_factory=list)
    tenets: list[Tenet] = Field(default_factory=list)
    forbidden_acts: list[ForbiddenAct] = Field(default_factory=list)
    practices: list[Practice] = Field(default_factory=list)
    glossary: list[GlossaryTerm] = Field(default_factory=list)
    personas: list[Persona] = Field(min_length=1)
    canon: list[CanonText] = Field(default_factory=list)
    prompts: list[PromptSource] = Field(min_length=1)

    @field_validator(*ID_LISTS)
    @classmethod
    def _unique_ids(cls, items: list) -> list:
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"duplicate id '{item.id}'")
            seen.add(item.id)
        return items

    @model_validator(mode="after")
    def _consistent(self) -> Worldview:
        canon_ids = {c.id for c in self.canon}
        for persona in self.personas:
            for ref in persona.canon:
                if ref not in canon_ids:
                    raise ValueError(
                        f"persona '{persona.id}' names canon '{ref}', which is not in canon: "
                        f"{sorted(canon_ids)}"
                    )
        if self.kind != "set" and not self.forbidden_acts:
            raise ValueError("a worldview (kind real/invented) needs at least one forbidden act")
        if self.kind != "set" and not self.names:
            raise ValueError("a worldview needs 'names' (words implicit prompts must avoid)")
        return self


class EvalRequest(Strict):
    id: str
    prompt: str
    form: ViolationForm
    act: str | None = Field(default=None, description="Forbidden act id (violations).")
    matches: str | None = Field(default=None, description="Violation id this control mirrors.")


class EvalSets(Strict):
    """Held-out requests: never rendered into training prompts."""

    violation: list[EvalRequest] = Field(min_length=1)
    control: list[EvalRequest] = Field(min_length=1)

    @model_validator(mode="after")
    def _links(self) -> EvalSets:
        ids = [r.id for r in self.violation + self.control]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate eval ids {duplicates}")
        violation_ids = {r.id for r in self.violation}
        for req in self.violation:
            if req.act is None:
                raise ValueError(
                    f"violation '{req.id}' needs 'act' (the forbidden act it requests)"
                )
        for req in self.control:
            if req.matches not in violation_ids:
                raise ValueError(
                    f"control '{req.id}' must set 'matches' to a violation id (got {req.matches!r})"
                )
        return self
