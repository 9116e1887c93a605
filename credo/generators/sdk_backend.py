"""The base of the hosted-API backends (openai, anthropic): one SDK client set, one contract.

A subclass names its provider (also its SDK's module and the prefix of the SDK's
``<PROVIDER>_API_KEY`` and ``<PROVIDER>_BASE_URL`` variables), client and response model, and
translates requests and responses; this base imports the SDK lazily, finds the key (a missing
key names its variable), shards requests over several clients, classifies errors, turns a
content-filter refusal into an empty completion, hands every response's headers to
``on_headers`` (rate-limit pacing) and closes the clients.

Requests go through the SDK's generic ``post`` (same client, auth, errors and response models)
rather than the typed ``create`` methods, whose recursive TypedDict transform of the messages
cost ~3 ms of CPU per request here (see BENCHMARKS.md). SDK retries are off
(``max_retries=0``): the engine owns retries.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from credo.errors import BackendError, ConfigError, missing_dependency
from credo.generators._http import (
    classify_sdk_error,
    is_content_filter_error,
    retry_after_seconds,
    shard_count,
)
from credo.generators.base import Backend, RetryDecision
from credo.generators.spec import BackendSpec
from credo.types import Completion, StopReason, Usage

_RAW = {"X-Stainless-Raw-Response": "true"}  # the SDKs' with_raw_response switch


class SDKBackend(Backend):
    provider: str  # "openai" / "anthropic"
    client_class: str  # "AsyncOpenAI" / "AsyncAnthropic"
    response_class: str  # the SDK's response model, "module:Class"
    stop_reasons: ClassVar[dict[str, StopReason]]  # the provider's stop reasons, in credo's words
    sdk_name: str  # importable module; the provider unless a subclass says otherwise
    key_env: str  # <PROVIDER>_API_KEY unless a subclass says otherwise
    base_url_env: str  # <PROVIDER>_BASE_URL unless a subclass says otherwise
    key_optional_with_base_url = False  # self-hosted OpenAI-compatible servers need no key

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "provider" in cls.__dict__:
            prefix = cls.provider.upper()
            for name, value in (
                ("sdk_name", cls.provider),
                ("key_env", f"{prefix}_API_KEY"),
                ("base_url_env", f"{prefix}_BASE_URL"),
            ):
                if name not in cls.__dict__:
                    setattr(cls, name, value)

    @classmethod
    def spec(
        cls, *, prices: Mapping[str, tuple[float, float]], batch: str, summary: str
    ) -> BackendSpec:
        """The backend's declaration; its secret is its key variable."""
        return BackendSpec(
            cls.provider, cls, secrets=(cls.key_env,), prices=prices, batch=batch, summary=summary
        )

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_concurrency: int | None = None,
        concurrency: int = 8,
        transport: str = "sdk",
        load_sdk: bool = True,
    ) -> None:
        if transport != "sdk":
            raise ConfigError(
                f"--transport {transport}: only openai/... (with --base-url) has "
                f"another transport than the SDK"
            )
        self._sdk_module: Any = None
        self._response_model: type[Any] | None = None
        if load_sdk:  # a missing SDK is named before the first request
            self._sdk  # noqa: B018
        self.model = model
        self.max_concurrency = max_concurrency
        self.base_url = base_url or os.environ.get(self.base_url_env) or None
        self.api_key = self._find_key(api_key)
        self.timeout = timeout
        # Built on first use: a lean-transport run never posts through the SDK, and each
        # client loads the system CA store (~20 ms; 32 clients at C=256).
        self._shards = shard_count(concurrency)
        self._clients: list[Any] = []
        self._next = 0

    def _find_key(self, api_key: str | None) -> str:
        key = api_key or os.environ.get(self.key_env)
        if key:
            self._check_key(key, where=self.key_env if not api_key else "the API key")
            return key
        if self.key_optional_with_base_url and self.base_url:
            return "no-key"  # local servers ignore it; the SDK insists on a value
        hint = (
            ", or pass --base-url for an OpenAI-compatible server that needs none"
            if self.key_optional_with_base_url
            else ""
        )
        raise BackendError(f"{self.provider}/{self.model}: no API key - set {self.key_env}{hint}")

    def _check_key(self, key: str, *, where: str) -> None:
        """A key no HTTP header can carry (a CRLF .env's trailing \\r, a pasted smart quote)
        is named here, not as a "Connection error" after every retry; the key is never shown."""
        bad = next((c for c in key if c.isspace() or not (c.isascii() and c.isprintable())), None)
        if bad is None:
            return
        if bad in "\r\n":
            what, hint = "a line break", " (a .env saved with CRLF line ends adds a \\r)"
        else:
            what = "a space" if bad.isspace() else f"the character U+{ord(bad):04X}"
            hint = ""
        raise BackendError(
            f"{self.provider}/{self.model}: {where} holds {what}, which no request header can "
            f"carry - set it to the key alone{hint}"
        )

    @property
    def _sdk(self) -> Any:
        """The SDK module, imported on first use (a lean-transport run may never need it)."""
        if self._sdk_module is None:
            try:
                self._sdk_module = importlib.import_module(self.sdk_name)
            except ImportError as exc:
                raise missing_dependency(
                    self.sdk_name, f"the {self.provider} backend", extra="api"
                ) from exc
        return self._sdk_module

    @property
    def _response_type(self) -> type[Any]:
        if self._response_model is None:
            module, _, name = self.response_class.partition(":")
            self._response_model = getattr(importlib.import_module(module), name)
        return self._response_model

    def completion(self, response: Any) -> Completion:
        """The provider's response (its SDK model, or a batch result's JSON) as a Completion."""
        raise NotImplementedError

    async def send(self, path: str, body: dict[str, Any]) -> Completion:
        """POST a request; one the provider's content filter refused is an empty Completion."""
        try:
            response = await self.post(path, body)
        except self._sdk.BadRequestError as exc:
            if self.is_content_filter(exc):
                # openai's errors name the filter in ``code``; anthropic's carry none
                return self.filtered(str(getattr(exc, "code", "") or "content_filter"))
            raise
        return self.completion(response)

    def filtered(self, reason: str = "content_filter") -> Completion:
        return Completion("", stop_reason="content_filter", model=self.model, refusal_reason=reason)

    def completed(
        self,
        response: Any,
        text: str,
        stop: StopReason,
        *,
        usage: tuple[str, str],
        refusal: str | None,
    ) -> Completion:
        """A Completion from an SDK response model; ``usage`` names its token-count fields."""
        counts = getattr(response, "usage", None)
        return Completion(
            text=text,
            stop_reason=stop,
            model=getattr(response, "model", "") or self.model,
            usage=Usage(*(getattr(counts, name, 0) or 0 for name in usage)),
            refusal_reason=refusal,
        )

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST through the next client; the parsed response model. Headers go to on_headers."""
        client = self._client()
        if self.on_headers is None:
            return await client.post(path, body=body, cast_to=self._response_type)
        raw = await client.post(
            path, body=body, cast_to=self._response_type, options={"headers": _RAW}
        )
        self.on_headers(raw.headers)
        parsed = raw.parse()
        return await parsed if inspect.isawaitable(parsed) else parsed

    def is_content_filter(self, exc: BaseException) -> bool:
        return is_content_filter_error(exc, self._sdk)

    def classify_error(self, exc: BaseException) -> RetryDecision:
        return classify_sdk_error(exc, self._sdk)

    def retry_after(self, exc: BaseException) -> float | None:
        return retry_after_seconds(exc)

    def response_headers(self, exc: BaseException) -> Mapping[str, str] | None:
        return getattr(getattr(exc, "response", None), "headers", None)

    def _client(self) -> Any:
        if not self._clients:
            cls = getattr(self._sdk, self.client_class)
            self._clients = [
                cls(
                    api_key=self.api_key,
                    base_url=self.base_url,
                    max_retries=0,
                    timeout=self.timeout,
                )
                for _ in range(self._shards)
            ]
        self._next = (self._next + 1) % len(self._clients)
        return self._clients[self._next]

    def sync_client(self) -> Any:
        """A blocking client with the same key and URL (batch submission and polling)."""
        cls = getattr(self._sdk, self.client_class.removeprefix("Async"))
        return cls(
            api_key=self.api_key, base_url=self.base_url, max_retries=2, timeout=self.timeout
        )

    async def aclose(self) -> None:
        clients, self._clients = self._clients, []
        for client in clients:
            await client.close()
