"""Response bodies in the OpenAI and Anthropic wire formats, for the fake server."""

from __future__ import annotations

import contextlib
import itertools
import json
from typing import Any

_ids = itertools.count(1)
_OPENAI_ERRORS = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
    529: "overloaded",
}
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


def prompt_tokens(body: dict[str, Any]) -> int:
    parts = [str(m.get("content", "")) for m in body.get("messages") or []]
    return _tokens(" ".join([*parts, str(body.get("system", ""))]))


def success_body(api: str, request: dict[str, Any], text: str, blocked: bool) -> dict[str, Any]:
    model = str(request.get("model", "fake"))
    n = next(_ids)
    if api == "openai":
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "content_filter" if blocked else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens(request),
                "completion_tokens": _tokens(text) if text else 0,
                "total_tokens": prompt_tokens(request) + _tokens(text),
            },
        }
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    stop = "refusal" if blocked else "end_turn"
    tool = (request.get("tool_choice") or {}).get("name")
    if tool and text:  # a forced tool: the answer's JSON becomes the tool's input if it parses
        with contextlib.suppress(ValueError):
            content, stop = (
                [{"type": "tool_use", "id": f"toolu_{n}", "name": tool, "input": json.loads(text)}],
                "tool_use",
            )
    return {
        "id": f"msg_{n}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": prompt_tokens(request),
            "output_tokens": _tokens(text) if text else 0,
        },
    }


def error_body(api: str, status: int, message: str | None = None) -> dict[str, Any]:
    if api == "openai":
        code = message if message == "content_policy_violation" else _OPENAI_ERRORS.get(status)
        return {
            "error": {
                "message": message or f"fake error {status}",
                "type": _OPENAI_ERRORS.get(status, "error"),
                "code": code,
            }
        }
    return {
        "type": "error",
        "error": {
            "type": _ANTHROPIC_ERRORS.get(status, "api_error"),
            "message": message or f"fake error {status}",
        },
    }
