"""The one interface every generator backend implements.

A backend only translates: messages + params -> provider request -> :class:`Completion`.
Retries, caching, concurrency limits and accounting live in the engine, never here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
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
    #: Structured output: ``{"name": ..., "schema": JSON schema}``. Sent as a JSON-schema
    #: response format (openai; plus vLLM's ``guided_json`` with ``--transport lean``) or a
    #: forced tool (anthropic); other backends ignore it and callers re-ask on bad JSON.
    json_schema: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if data["json_schema"] is None:  # absent, so keys and job ids made before it stay valid
            del data["json_schema"]
        return data


#: ``request_timeout`` value meaning "use the engine's RetryPolicy.timeout".
POLICY_TIMEOUT = "policy"


class Backend(Protocol):
    """``provider/model`` addressed; ``generate`` is async; SDKs are imported lazily.

    Backends subclass this class to inherit the attribute defaults below; the engine and the
    corpus runner read only what is declared here.
    """

    provider: str
    model: str
    #: Most requests this backend should have in flight (the local model runs one at a time).
    max_concurrency: int | None = None
    #: Seconds per try: POLICY_TIMEOUT (the retry policy's), a number, or None (never).
    request_timeout: float | str | None = POLICY_TIMEOUT
    #: Longest system prompt (persona + canon) the model can take; None = the whole canon.
    max_context_chars: int | None = None
    #: Where requests go (recorded in the manifest); None for in-process backends.
    base_url: str | None = None
    #: Called with each response's headers (rate-limit pacing); set by the engine.
    on_headers: Callable[[Mapping[str, str]], None] | None = None

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion: ...

    def classify_error(self, exc: BaseException) -> RetryDecision: ...

    def retry_after(self, exc: BaseException) -> float | None:
        """Seconds the server asked us to wait (Retry-After), if any."""
        ...

    def response_headers(self, exc: BaseException) -> Mapping[str, str] | None:
        """Headers of the failed response (rate-limit state of a 429), if any."""
        return None

    async def aclose(self) -> None: ...


def backend_timeout(backend: Backend, policy_timeout: float) -> float | None:
    value: float | str | None = getattr(backend, "request_timeout", POLICY_TIMEOUT)
    if isinstance(value, str):  # POLICY_TIMEOUT, the only string a backend may declare
        return policy_timeout
    return value


class MalformedResponseError(Exception):
    """A provider answered with a body that is not the expected shape (retried as transient)."""
