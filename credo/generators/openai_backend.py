"""``openai/<model>``: the OpenAI chat completions API and every server that speaks it.

vLLM, Ollama and llama.cpp servers work through ``--base-url`` or ``OPENAI_BASE_URL``; such
a server needs no key. Client setup, errors and close live in :class:`SDKBackend`.
``transport="lean"`` (``--transport lean``) skips the SDK on the request path for a
self-hosted server: the same JSON over :class:`credo.generators.lean_http.LeanClient`, at a
fraction of the CPU per request (see BENCHMARKS.md).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from credo.errors import ConfigError
from credo.generators._http import retry_after_from_headers
from credo.generators.base import MalformedResponseError, RetryDecision, SamplingParams
from credo.generators.lean_http import LeanClient, LeanHTTPError
from credo.generators.pricing import price_rows
from credo.generators.sdk_backend import SDKBackend
from credo.types import Completion, Message, StopReason, Usage


class OpenAIBackend(SDKBackend):
    provider = "openai"
    client_class = "AsyncOpenAI"
    response_class = "openai.types.chat:ChatCompletion"
    key_optional_with_base_url = True
    #: The batch API's endpoint for these requests (see credo.generators.batch_api).
    batch_url = "/v1/chat/completions"
    stop_reasons: ClassVar[dict[str, StopReason]] = {
        **dict.fromkeys(("stop", "tool_calls", "function_call"), "stop"),
        "length": "length",
        "content_filter": "content_filter",
    }

    def __init__(self, model: str, *, transport: str = "sdk", **options: Any) -> None:
        if transport not in ("sdk", "lean"):
            raise ConfigError(f"--transport {transport!r}: expected sdk or lean")
        # the lean path never touches the SDK: importing it costs ~0.5-1 s of start-up
        super().__init__(model, load_sdk=transport == "sdk", **options)
        self._lean: LeanClient | None = None
        if transport == "lean":
            if not self.base_url:
                raise ConfigError(
                    "--transport lean is for self-hosted OpenAI-compatible "
                    "servers: pass --base-url (the hosted API keeps the SDK)"
                )
            self._lean = LeanClient(
                self.base_url, {"Authorization": f"Bearer {self.api_key}"}, self.timeout
            )

    def request_body(self, messages: list[Message], params: SamplingParams) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_json() for m in messages],
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
        }
        if params.top_p is not None:
            request["top_p"] = params.top_p
        if params.seed is not None:
            request["seed"] = params.seed
        if params.json_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": params.json_schema["name"],
                    "schema": params.json_schema["schema"],
                },
            }
            if self._lean is not None:  # self-hosted: vLLM's guided decoding parameter too
                request["guided_json"] = params.json_schema["schema"]
        return request

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        if self._lean is not None:
            return await self._generate_lean(self.request_body(messages, params))
        return await self.send("/chat/completions", self.request_body(messages, params))

    async def _generate_lean(self, body: dict[str, Any]) -> Completion:
        assert self._lean is not None  # only called when the lean client is configured
        status, headers, data = await self._lean.post_json("/chat/completions", body)
        if self.on_headers is not None:
            self.on_headers(headers)
        if status != 200:
            error = LeanHTTPError(status, headers, data)
            if status == 400 and (b"content_policy" in data or b"content_filter" in data):
                return self.filtered()
            raise error
        try:
            return self.completion(json.loads(data))
        except ValueError as exc:
            raise MalformedResponseError(f"openai/{self.model}: body is not JSON") from exc

    def classify_error(self, exc: BaseException) -> RetryDecision:
        if isinstance(exc, LeanHTTPError):
            if exc.status_code == 429:
                return RetryDecision.RATE_LIMIT
            return (
                RetryDecision.TRANSIENT
                if exc.status_code in (408, 409) or exc.status_code >= 500
                else RetryDecision.NO
            )
        if isinstance(exc, (OSError, EOFError)):  # resets, refused, IncompleteReadError
            return RetryDecision.TRANSIENT
        return super().classify_error(exc)

    def retry_after(self, exc: BaseException) -> float | None:
        if isinstance(exc, LeanHTTPError):
            return retry_after_from_headers(exc.headers)
        return super().retry_after(exc)

    def response_headers(self, exc: BaseException) -> Any:
        return exc.headers if isinstance(exc, LeanHTTPError) else super().response_headers(exc)

    async def aclose(self) -> None:
        if self._lean is not None:
            await self._lean.aclose()
        await super().aclose()

    def completion(self, response: Any) -> Completion:
        if isinstance(response, dict):  # a lean answer or a batch result line's body
            return self._completion_from_dict(response)
        choices = getattr(response, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise MalformedResponseError(f"openai/{self.model}: response has no choices")
        choice = choices[0]
        text = choice.message.content or ""
        refusal = getattr(choice.message, "refusal", None)
        stop: StopReason = self.stop_reasons.get(choice.finish_reason or "", "unknown")
        if refusal:
            stop, text = "refusal", text or refusal
        refusal = refusal or ("content_filter" if stop == "content_filter" else None)
        usage = ("prompt_tokens", "completion_tokens")
        return self.completed(response, text, stop, usage=usage, refusal=refusal)

    def _completion_from_dict(self, data: dict[str, Any]) -> Completion:
        """The same reading as for the SDK's model, straight from the JSON (no pydantic)."""
        choices = data.get("choices")
        first = choices[0] if choices and isinstance(choices[0], dict) else {}
        message = first.get("message")
        if not isinstance(message, dict):
            raise MalformedResponseError(f"openai/{self.model}: response has no choices")
        text = message.get("content") or ""
        refusal = message.get("refusal")
        stop: StopReason = self.stop_reasons.get(first.get("finish_reason") or "", "unknown")
        if refusal:
            stop, text = "refusal", text or refusal
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            stop_reason=stop,
            model=data.get("model") or self.model,
            usage=Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0),
            refusal_reason=refusal or ("content_filter" if stop == "content_filter" else None),
        )


BACKEND = OpenAIBackend.spec(
    prices=price_rows("""
        gpt-4o-mini*    0.15   0.60
        gpt-4o*         2.50  10.00
        gpt-4.1-nano*   0.10   0.40
        gpt-4.1-mini*   0.40   1.60
        gpt-4.1*        2.00   8.00
        o4-mini*        1.10   4.40
    """),
    batch="credo.generators.batch_api:OpenAIBatchAPI",
    summary="the OpenAI chat completions API and every server that speaks it",
)
