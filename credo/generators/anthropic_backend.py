"""``anthropic/<model>``: the Anthropic Messages API (``ANTHROPIC_BASE_URL`` honoured).

The system prompt travels in the ``system`` field, not as a message. SDK retries are off;
the engine owns them. As for openai, the body goes through the SDK's generic ``post``
(same client, auth, errors and response model), skipping the per-call param transform.
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

_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                 "refusal": "refusal", "tool_use": "stop", "pause_turn": "stop"}


class AnthropicBackend:
    provider = "anthropic"

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, max_concurrency: int | None = None,
                 concurrency: int = 8) -> None:
        try:
            import anthropic
        except ImportError as exc:
            raise missing_dependency("anthropic", "the anthropic backend", extra="api") from exc
        self._sdk = anthropic
        self.model = model
        self.max_concurrency = max_concurrency
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise BackendError(f"anthropic/{model}: no API key - set ANTHROPIC_API_KEY")
        from anthropic.types import Message as AnthropicMessage

        self._response_type = AnthropicMessage
        self._clients = [anthropic.AsyncAnthropic(api_key=key, base_url=self.base_url,
                                                max_retries=0, timeout=timeout)
                         for _ in range(shard_count(concurrency))]
        self._next = 0

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        # Recent SDKs dropped temperature/top_p from create()'s signature; the API takes them.
        request: dict[str, Any] = {
            "model": self.model, "max_tokens": params.max_tokens, "temperature": params.temperature,
            "messages": [m.to_json() for m in messages if m.role != "system"]}
        if system:
            request["system"] = system
        if params.top_p is not None:
            request["top_p"] = params.top_p
        try:
            response = await self._client().post("/v1/messages", body=request,
                                               cast_to=self._response_type)
        except self._sdk.BadRequestError as exc:
            if is_content_filter_error(exc, self._sdk):
                return Completion("", stop_reason="content_filter", model=self.model,
                                  refusal_reason="content_filter")
            raise
        return self._completion(response)

    def _completion(self, response: Any) -> Completion:
        content = getattr(response, "content", None)
        if content is None:
            raise MalformedResponseError(f"anthropic/{self.model}: response has no content")
        text = "".join(getattr(block, "text", "") or "" for block in content)
        stop = _STOP_REASONS.get(getattr(response, "stop_reason", None) or "", "unknown")
        usage = getattr(response, "usage", None)
        return Completion(
            text=text, stop_reason=stop, model=getattr(response, "model", "") or self.model,
            usage=Usage(getattr(usage, "input_tokens", 0) or 0,
                        getattr(usage, "output_tokens", 0) or 0),
            refusal_reason="refusal" if stop == "refusal" else None)

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
