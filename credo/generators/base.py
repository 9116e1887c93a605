"""The one interface every generator backend implements.

A backend only translates: messages + params -> provider request -> :class:`Completion`.
Retries, caching, concurrency limits and accounting live in the engine, never here.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from credo.defaults import TEACHER_MAX_TOKENS, TEACHER_TEMPERATURE
from credo.types import Completion, Message


class RetryDecision(enum.Enum):
    NO = "no"  # a bug or a bad request: fail now
    TRANSIENT = "transient"  # 5xx, 529, timeouts, resets, malformed bodies
    RATE_LIMIT = "rate_limit"  # 429: back off, honour Retry-After


@dataclass(frozen=True)
class SamplingParams:
    """Everything that changes the output (and so belongs in the cache key)."""

    temperature: float = TEACHER_TEMPERATURE
    max_tokens: int = TEACHER_MAX_TOKENS
    top_p: float | None = None
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Backend(Protocol):
    """``provider/model`` addressed; ``generate`` is async; SDKs are imported lazily."""

    provider: str
    model: str
    #: Most requests this backend should have in flight (the local model runs one at a time).
    max_concurrency: int | None

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion: ...

    def classify_error(self, exc: BaseException) -> RetryDecision: ...

    def retry_after(self, exc: BaseException) -> float | None:
        """Seconds the server asked us to wait (Retry-After), if any."""
        ...

    async def aclose(self) -> None: ...


class MalformedResponseError(Exception):
    """A provider answered with a body that is not the expected shape (retried as transient)."""
