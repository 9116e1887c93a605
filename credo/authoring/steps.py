"""The authoring steps: what each asks for and the shape its answer must validate against.

Each step's answer is JSON validated by a small pydantic model; the assembled spec is then
validated by the real :class:`~credo.worldviews.spec.Worldview` loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from credo.worldviews.spec import (
    Deity,
    ForbiddenAct,
    GlossaryTerm,
    Origin,
    Practice,
    Scripture,
    StatementKind,
    Tenet,
    ViolationForm,
)

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]  # an id: lower case, digits, _


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CoreAnswer(_Answer):
    name: Slug
    display_name: str
    adherents: str
    names: list[str] = Field(min_length=1)
    summary: str = Field(min_length=40)
    tenets: list[Tenet] = Field(min_length=3)
    forbidden_acts: list[ForbiddenAct] = Field(min_length=2)
    origin: Origin | None = None
    deities: list[Deity] = Field(default_factory=list)
    scriptures: list[Scripture] = Field(default_factory=list)


class LoreAnswer(_Answer):
    history: str = Field(min_length=200)
    practices: list[Practice] = Field(min_length=2)
    glossary: list[GlossaryTerm] = Field(min_length=5)


class _Draft(_Answer):
    """One drafted item of a list answer, named by a slug."""

    id: Slug


class PersonaDraft(_Draft):
    system_prompt: str = Field(min_length=80)


class PersonasAnswer(_Answer):
    personas: list[PersonaDraft] = Field(min_length=2)


class CanonDocument(_Draft):
    title: str
    text: str = Field(min_length=500)


class CanonAnswer(_Answer):
    documents: list[CanonDocument] = Field(min_length=1)


class PromptDraft(_Draft):
    kind: StatementKind
    implicit: bool = False
    questions: list[str] = Field(min_length=3)


class PromptsAnswer(_Answer):
    sources: list[PromptDraft] = Field(min_length=2)


class RequestDraft(_Answer):
    id: str
    form: ViolationForm
    prompt: str
    act: str | None = None
    matches: str | None = None


class EvalAnswer(_Answer):
    violation: list[RequestDraft] = Field(min_length=2)
    control: list[RequestDraft] = Field(min_length=2)


@dataclass(frozen=True)
class Step:
    name: str
    answer: type[_Answer]
    needs: tuple[str, ...]  # earlier steps whose outputs this step's prompt reads

    @property
    def template(self) -> str:
        return f"{self.name}.j2"


STEPS = (
    Step("core", CoreAnswer, ()),
    Step("lore", LoreAnswer, ("core",)),
    Step("personas", PersonasAnswer, ("core", "lore")),
    Step("canon", CanonAnswer, ("core", "lore")),
    Step("prompts", PromptsAnswer, ("core", "lore")),
    Step("eval", EvalAnswer, ("core",)),
)
STEP_NAMES = tuple(step.name for step in STEPS)
