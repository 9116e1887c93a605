"""``anthropic/<model>``: the Anthropic Messages API (``ANTHROPIC_BASE_URL`` honoured).

The system prompt travels in the ``system`` field, not as a message. Client setup, errors
and close live in :class:`SDKBackend`.
"""

from __future__ import annotations

import json
from typing import Any

from credo.generators.base import MalformedResponseError, SamplingParams
from credo.generators.sdk_backend import SDKBackend
from credo.generators.spec import BackendSpec
from credo.types import Completion, Message, StopReason, Usage

_STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "refusal",
    "tool_use": "stop",
    "pause_turn": "stop",
}


class AnthropicBackend(SDKBackend):
    provider = "anthropic"
    sdk_name = "anthropic"
    client_class = "AsyncAnthropic"
    key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"

    def response_type(self) -> type[Any]:
        from anthropic.types import Message as AnthropicMessage

        return AnthropicMessage

    def request_body(self, messages: list[Message], params: SamplingParams) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        # Recent SDKs dropped temperature/top_p from create()'s signature; the API takes them.
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "messages": [m.to_json() for m in messages if m.role != "system"],
        }
        if system:
            request["system"] = system
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.json_schema is not None:  # structured output = one forced tool call
            name = params.json_schema["name"]
            request["tools"] = [
                {
                    "name": name,
                    "description": "Give the answer in this shape.",
                    "input_schema": params.json_schema["schema"],
                }
            ]
            request["tool_choice"] = {"type": "tool", "name": name}
        return request

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        try:
            response = await self.post("/v1/messages", self.request_body(messages, params))
        except self._sdk.BadRequestError as exc:
            if self.is_content_filter(exc):
                return Completion(
                    "",
                    stop_reason="content_filter",
                    model=self.model,
                    refusal_reason="content_filter",
                )
            raise
        return self.completion(response)

    def completion(self, response: Any) -> Completion:
        if isinstance(response, dict):  # a batch result's message
            response = self._response_type.model_validate(response)
        content = getattr(response, "content", None)
        if content is None:
            raise MalformedResponseError(f"anthropic/{self.model}: response has no content")
        tool = next((b for b in content if getattr(b, "type", "") == "tool_use"), None)
        text = (
            json.dumps(tool.input, ensure_ascii=False)
            if tool is not None
            else "".join(getattr(block, "text", "") or "" for block in content)
        )
        stop: StopReason = _STOP_REASONS.get(
            getattr(response, "stop_reason", None) or "", "unknown"
        )
        usage = getattr(response, "usage", None)
        return Completion(
            text=text,
            stop_reason=stop,
            model=getattr(response, "model", "") or self.model,
            usage=Usage(
                getattr(usage, "input_tokens", 0) or 0, getattr(usage, "output_tokens", 0) or 0
            ),
            refusal_reason="refusal" if stop == "refusal" else None,
        )


BACKEND = BackendSpec(
    "anthropic",
    AnthropicBackend,
    secrets=(AnthropicBackend.key_env,),
    prices={
        "claude-3-5-haiku*": (0.80, 4.00),
        "claude-3-haiku*": (0.25, 1.25),
        "claude-haiku-4*": (1.00, 5.00),
        "claude-sonnet-4*": (3.00, 15.00),
        "claude-3-7-sonnet*": (3.00, 15.00),
        "claude-opus-4*": (15.00, 75.00),
    },
    batch="credo.generators.batch_api:AnthropicBatchAPI",
    summary="the Anthropic Messages API",
)
