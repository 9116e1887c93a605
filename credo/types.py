"""The types that cross module borders: Prompt -> Completion -> Record.

Every stage takes and yields these, never raw dicts. ``Record`` is the one record type of
corpora; ``to_json``/``from_json`` are its only serialisation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
StopReason = Literal["stop", "length", "content_filter", "refusal", "error", "unknown"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Prompt:
    """One rendered training prompt. ``id`` is stable across runs for the same spec."""

    id: str
    text: str
    set_name: str
    template_id: str
    template_hash: str
    kind: str  # statement type: assertion, justification, explanation, catechism, ...
    slots: dict[str, str] = field(default_factory=dict)
    implicit: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prompt:
        return cls(**data)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True)
class Completion:
    """What a backend returns. Provider blocks are data (stop_reason), not exceptions."""

    text: str
    stop_reason: StopReason = "stop"
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    teacher_refused: bool = False
    refusal_reason: str | None = None

    @property
    def blocked(self) -> bool:
        return self.stop_reason in ("content_filter", "refusal")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["usage"] = asdict(self.usage)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Completion:
        data = dict(data)
        data["usage"] = Usage(**data.get("usage", {}))
        return cls(**data)


@dataclass
class Record:
    """One training example: a user turn and an assistant turn, plus provenance."""

    id: str
    messages: list[Message]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        return next((m.content for m in self.messages if m.role == "user"), "")

    @property
    def response(self) -> str:
        return next((m.content for m in reversed(self.messages) if m.role == "assistant"), "")

    @property
    def text(self) -> str:
        return "\n".join(m.content for m in self.messages)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "messages": [m.to_json() for m in self.messages], "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(
            id=str(data["id"]),
            messages=[Message(m["role"], m["content"]) for m in data["messages"]],
            meta=dict(data.get("meta") or {}),
        )
