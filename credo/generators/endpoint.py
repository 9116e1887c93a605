"""Base URLs: credentials stripped before anything is written, and the endpoint as cache-key part.

``--base-url http://user:key@host/v1?api-key=...`` works for the request, but the manifest,
logs and error messages must never carry ``user:key`` or a secret-looking query value.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from credo.errors import ConfigError
from credo.redact import scrub, scrub_url

_DEFAULT_PORTS = {"http": 80, "https": 443}


def redact_url(url: str | None) -> str | None:
    """``url`` without user:password and with secret query values replaced by ``***``."""
    return scrub_url(url)


def scrub_urls(text: str) -> str:
    """Any credential inside free text (an SDK error message) replaced by ``***``."""
    return scrub(text)


MAX_URL = 2048


def endpoint_id(url: str | None) -> str | None:
    """Scheme, host, port and path of ``url``: what decides which server answers.

    Credentials and query strings are left out (they authenticate, they do not change the
    model behind the URL). ``None`` for the provider's default endpoint.
    """
    if not url:
        return None
    if len(url) > MAX_URL:
        raise ConfigError(
            f"--base-url: {len(url):,} characters, over the {MAX_URL:,} a server address may "
            "hold - e.g. http://localhost:8000/v1"
        )
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError as exc:
        raise ConfigError(
            f"--base-url {redact_url(url)!r}: not a valid URL ({exc}) - e.g. http://localhost:8000/v1"
        ) from None
    if not parts.scheme or not parts.hostname:
        raise ConfigError(
            f"--base-url {redact_url(url)!r}: needs a scheme and host, e.g. http://localhost:8000/v1"
        )
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(
            f"--base-url {redact_url(url)!r}: an API is reached over http or https - "
            "e.g. http://localhost:8000/v1"
        )
    return (
        f"{parts.scheme.lower()}://{parts.hostname.lower()}:{port}{parts.path.rstrip('/') or '/'}"
    )
