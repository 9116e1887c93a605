"""``openai/<model>``: the OpenAI chat completions API and every server that speaks it.

vLLM, Ollama and llama.cpp servers work through ``--base-url`` or ``OPENAI_BASE_URL``; such
a server needs no key. Client setup, errors and close live in :class:`SDKBackend`.
"""

from __future__ import annotations

from typing import Any

from credo.generators.base import MalformedResponseError, SamplingParams
from credo.generators.sdk_backend import SDKBackend
from credo.types import Completion, Message, Usage

_STOP_REASONS = {"stop": "stop", "length": "length", "content_filter": "content_filter",
                 "tool_calls": "stop", "function_call": "stop"}


class OpenAIBackend(SDKBackend):
    provider = "openai"
    sdk_name = "openai"
    client_class = "AsyncOpenAI"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    key_optional_with_base_url = True
    #: The batch API's endpoint for these requests (see credo.generators.batch_api).
    batch_url = "/v1/chat/completions"

    def response_type(self) -> type:
        from openai.types.chat import ChatCompletion

        return ChatCompletion

    def request_body(self, messages: list[Message], params: SamplingParams) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model,
                                   "messages": [m.to_json() for m in messages],
                                   "temperature": params.temperature,
                                   "max_tokens": params.max_tokens}
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.seed is not None:
            request["seed"] = params.seed
        return request

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        try:
            response = await self.post("/chat/completions", self.request_body(messages, params))
        except self._sdk.BadRequestError as exc:
            if self.is_content_filter(exc):
                return Completion("", stop_reason="content_filter", model=self.model,
                                  refusal_reason=str(getattr(exc, "code", "") or "content_filter"))
            raise
        return self.completion(response)

    def completion(self, response: Any) -> Completion:
        if isinstance(response, dict):  # a batch result line's body
            response = self._response_type.model_validate(response)
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
