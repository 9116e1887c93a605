"""``openai/<model>``: the OpenAI chat completions API and every server that speaks it.

vLLM, Ollama and llama.cpp servers work through ``--base-url`` or ``OPENAI_BASE_URL``; such
a server needs no key. The SDK's own retries are off (``max_retries=0``): the engine owns
retries, so that backoff, Retry-After and the retry budget are the same for every backend.

Requests go through the SDK's generic ``post`` (same client, auth, errors and response
models) rather than ``chat.completions.create``, whose recursive TypedDict transform of the
messages cost ~3 ms of CPU per request here - the bottleneck at high concurrency on 2 cores
(see BENCHMARKS.md).
"""

from __future__ import annotations

import os
from typing import Any

from credo.errors import BackendError, missing_dependency
from credo.generators._http import (
    classify_sdk_error,
    is_content_filter_error,
    retry_after_seconds,
    shard_count,
)
from credo.generators.base import MalformedResponseError, RetryDecision, SamplingParams
from credo.types import Completion, Message, Usage

_STOP_REASONS = {"stop": "stop", "length": "length", "content_filter": "content_filter",
                 "tool_calls": "stop", "function_call": "stop"}


class OpenAIBackend:
    provider = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, max_concurrency: int | None = None,
                 concurrency: int = 8) -> None:
        try:
            import openai
        except ImportError as exc:
            raise missing_dependency("openai", "the openai backend", extra="api") from exc
        self._sdk = openai
        self.model = model
        self.max_concurrency = max_concurrency
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if not self.base_url:
                raise BackendError(
                    f"openai/{model}: no API key - set OPENAI_API_KEY, or pass --base-url "
                    "for an OpenAI-compatible server that needs none")
            key = "no-key"  # local servers ignore it; the SDK insists on a value
        from openai.types.chat import ChatCompletion

        self._response_type = ChatCompletion
        self._clients = [openai.AsyncOpenAI(api_key=key, base_url=self.base_url, max_retries=0,
                                            timeout=timeout)
                         for _ in range(shard_count(concurrency))]
        self._next = 0

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        request: dict[str, Any] = {"model": self.model,
                                   "messages": [m.to_json() for m in messages],
                                   "temperature": params.temperature,
                                   "max_tokens": params.max_tokens}
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.seed is not None:
            request["seed"] = params.seed
        try:
            response = await self._client().post("/chat/completions", body=request,
                                               cast_to=self._response_type)
        except self._sdk.BadRequestError as exc:
            if is_content_filter_error(exc, self._sdk):
                return Completion("", stop_reason="content_filter", model=self.model,
                                  refusal_reason=str(getattr(exc, "code", "") or "content_filter"))
            raise
        return self._completion(response)

    def _completion(self, response: Any) -> Completion:
        choices = getattr(response, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise MalformedResponseError(f"openai/{self.model}: response has no choices")
        choice = choices[0]
        text = choice.message.content or ""
        refusal = getattr(choice.message, "refusal", None)
        stop = _STOP_REASONS.get(choice.finish_reason or "", "unknown")
        if refusal:
            stop, text = "refusal", text or refusal
        usage = getattr(response, "usage", None)
        return Completion(
            text=text, stop_reason=stop, model=getattr(response, "model", "") or self.model,
            usage=Usage(getattr(usage, "prompt_tokens", 0) or 0,
                        getattr(usage, "completion_tokens", 0) or 0),
            refusal_reason=refusal or ("content_filter" if stop == "content_filter" else None))

    def classify_error(self, exc: BaseException) -> RetryDecision:
        return classify_sdk_error(exc, self._sdk)

    def retry_after(self, exc: BaseException) -> float | None:
        return retry_after_seconds(exc)

    def _client(self) -> Any:
        self._next = (self._next + 1) % len(self._clients)
        return self._clients[self._next]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.close()
