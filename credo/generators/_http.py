"""Error classification shared by the HTTP SDK backends (openai and anthropic).

Both SDKs raise the same family of exceptions (``APIStatusError`` with a status code and the
response, ``APIConnectionError``, ``APITimeoutError``), so one function serves both.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from types import ModuleType

from credo.generators.base import MalformedResponseError, RetryDecision

CONNECTIONS_PER_CLIENT = 8
_TRANSIENT_STATUS = {408, 409, 500, 502, 503, 504, 520, 522, 524, 529}


def classify_sdk_error(exc: BaseException, sdk: ModuleType) -> RetryDecision:
    if isinstance(exc, (MalformedResponseError, json.JSONDecodeError)):
        return RetryDecision.TRANSIENT
    if isinstance(exc, getattr(sdk, "APIResponseValidationError", ())):
        return RetryDecision.TRANSIENT
    if isinstance(exc, sdk.APIStatusError):
        if exc.status_code == 429:
            return RetryDecision.RATE_LIMIT
        if exc.status_code in _TRANSIENT_STATUS or exc.status_code >= 500:
            return RetryDecision.TRANSIENT
        return RetryDecision.NO
    # APITimeoutError subclasses APIConnectionError in both SDKs; resets land here too.
    if isinstance(exc, (sdk.APIConnectionError, ConnectionError, TimeoutError)):
        return RetryDecision.TRANSIENT
    return RetryDecision.NO


def retry_after_seconds(exc: BaseException) -> float | None:
    """Retry-After (seconds or HTTP date) or retry-after-ms from an SDK status error."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return None if headers is None else retry_after_from_headers(headers)


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


def is_content_filter_error(exc: BaseException, sdk: ModuleType) -> bool:
    """A provider-side block reported as a 400 (OpenAI's content_policy_violation)."""
    if not isinstance(exc, sdk.BadRequestError):
        return False
    code = str(getattr(exc, "code", "") or "")
    body = json.dumps(getattr(exc, "body", None) or {}, default=str)
    return (
        "content_filter" in code
        or "content_policy" in code
        or "content_filter" in body
        or "content_policy_violation" in body
    )


def shard_count(concurrency: int) -> int:
    """How many SDK clients to spread ``concurrency`` requests over.

    httpcore's pool scans every connection on each request (O(pool) per request, ~5 ms at 64
    connections on 2 cores), so several small pools cost less CPU than one large one.
    """
    return max(1, -(-concurrency // CONNECTIONS_PER_CLIENT))
