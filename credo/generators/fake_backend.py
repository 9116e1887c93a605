"""``fake/<name>``: a scripted backend for tests and demos (no network, no model).

It plays back queued completions and faults in order, then answers with a deterministic
echo of the prompt, and records every request it received (``history``). Faults are
exceptions: :class:`FakeTransientError` and :class:`FakeRateLimitError` are retried by the
engine, anything else fails the request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from credo.generators.base import Backend, RetryDecision, SamplingParams
from credo.generators.spec import BackendSpec
from credo.types import Completion, Message, Usage


class FakeTransientError(Exception):
    """A scripted 5xx / reset: retried."""


class FakeRateLimitError(Exception):
    """A scripted 429; ``retry_after`` is what the server asked for."""

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


@dataclass(frozen=True)
class FakeRequest:
    messages: list[Message]
    params: SamplingParams


Script = Completion | str | BaseException


def echo_response(name: str, messages: list[Message]) -> str:
    user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return f"({name}) A considered answer to: {user}"


class FakeBackend(Backend):
    provider = "fake"

    def __init__(
        self,
        model: str = "echo",
        *,
        delay: float = 0.0,
        max_concurrency: int | None = None,
        respond: Callable[[list[Message]], str] | None = None,
        **_: object,
    ) -> None:
        self.model = model
        self.delay = delay
        self.max_concurrency = max_concurrency
        self.history: list[FakeRequest] = []
        self._script: deque[Script] = deque()
        self._respond = respond or (lambda messages: echo_response(model, messages))

    def enqueue(self, *items: Script) -> FakeBackend:
        """Queue completions (or plain texts) and faults, played back one per request."""
        self._script.extend(items)
        return self

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        self.history.append(FakeRequest(list(messages), params))
        if self.delay:
            await asyncio.sleep(self.delay)
        item = self._script.popleft() if self._script else self._respond(messages)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Completion):
            return item
        words = sum(len(m.content.split()) for m in messages)
        return Completion(
            text=item,
            model=self.model,
            usage=Usage(input_tokens=words, output_tokens=len(item.split())),
        )

    def classify_error(self, exc: BaseException) -> RetryDecision:
        if isinstance(exc, FakeRateLimitError):
            return RetryDecision.RATE_LIMIT
        if isinstance(exc, (FakeTransientError, ConnectionError)):
            return RetryDecision.TRANSIENT
        return RetryDecision.NO

    def retry_after(self, exc: BaseException) -> float | None:
        return getattr(exc, "retry_after", None)

    async def aclose(self) -> None:
        return None


BACKEND = BackendSpec(
    "fake",
    FakeBackend,
    prices={"*": (0.0, 0.0)},
    summary="scripted completions for tests and demos",
)
