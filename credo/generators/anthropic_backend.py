"""``anthropic/<model>``: the Anthropic Messages API (``ANTHROPIC_BASE_URL`` honoured).

The system prompt travels in the ``system`` field, not as a message. Client setup, errors
and close live in :class:`SDKBackend`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from credo.generators.base import MalformedResponseError, SamplingParams
from credo.generators.pricing import price_rows
from credo.generators.sdk_backend import SDKBackend
from credo.types import Completion, Message, StopReason


class AnthropicBackend(SDKBackend):
    provider = "anthropic"
    client_class = "AsyncAnthropic"
    response_class = "anthropic.types:Message"
    stop_reasons: ClassVar[dict[str, StopReason]] = {
        **dict.fromkeys(("end_turn", "stop_sequence", "tool_use", "pause_turn"), "stop"),
        "max_tokens": "length",
        "refusal": "refusal",
    }

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
        return await self.send("/v1/messages", self.request_body(messages, params))

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
        stop: StopReason = self.stop_reasons.get(
            getattr(response, "stop_reason", None) or "", "unknown"
        )
        refusal = "refusal" if stop == "refusal" else None
        usage = ("input_tokens", "output_tokens")
        return self.completed(response, text, stop, usage=usage, refusal=refusal)


BACKEND = AnthropicBackend.spec(
    prices=price_rows("""
        claude-3-5-haiku*    0.80   4.00
        claude-3-haiku*      0.25   1.25
        claude-haiku-4*      1.00   5.00
        claude-sonnet-4*     3.00  15.00
        claude-3-7-sonnet*   3.00  15.00
        claude-opus-4*      15.00  75.00
    """),
    batch="credo.generators.batch_api:AnthropicBatchAPI",
    summary="the Anthropic Messages API",
)
