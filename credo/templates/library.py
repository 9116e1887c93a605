"""The shipped template library (``library.yaml``): reusable statement types."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credo.errors import TemplateError
from credo.worldviews.spec import StatementKind

LIBRARY_PATH = Path(__file__).parent / "library.yaml"


class LibraryTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: StatementKind
    over: str | None = None
    slots: dict[str, list[str]] = Field(default_factory=dict)
    variants: list[str] = Field(min_length=1)


@lru_cache(maxsize=4)
def load_library(path: Path = LIBRARY_PATH) -> dict[str, LibraryTemplate]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    library = {}
    for template_id, body in raw.items():
        try:
            library[template_id] = LibraryTemplate.model_validate(body)
        except ValidationError as exc:
            raise TemplateError(f"{path}: {template_id}: {exc.errors()[0]['msg']}") from exc
    return library
