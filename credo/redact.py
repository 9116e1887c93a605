"""The one credential scrubber: every string credo writes to disk, stderr or a log goes through it.

What it removes: ``user:password@`` in any URL, the values of secret-looking query parameters
(``?api-key=``, ``?key=``, ``token=``, ``sig=``...), bearer tokens, ``sk-...``/``hf_...`` style
keys, and the values of secret environment variables (``*_API_KEY``, ``*_TOKEN``, ...) that
are set in this process. Records a teacher wrote are data and are never rewritten; manifests,
locks, error messages, state files and logs are.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Environment variables whose values are secrets, beyond the *_KEY/*_TOKEN/... pattern.
SECRET_ENV_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
# Names backends declare among their ``secrets`` (plugins included), added by the backend
# registry when it reads the declarations: this module stays a leaf that imports nothing.
_DECLARED: set[str] = set()


def declare_secret_env_vars(names: tuple[str, ...] | list[str]) -> None:
    """Treat these environment variables' values as secrets from now on."""
    _DECLARED.update(names)


_SECRET_ENV_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.IGNORECASE)
# Query parameters whose values are secrets (api-key, access_token, sig, password, ...).
_SECRET_PARAM = re.compile(
    r"key|token|secret|pass|auth|sig|cred|session|(?:^|[_-])pwd?$", re.IGNORECASE
)
# Up to the authority's last "@": a password may hold a raw "@" (user:p@ss@host).
_USERINFO = re.compile(r"(?<=//)[^/\s\"'<>?#]+@")
# user:password@ after a single slash: a model name such as openai/user:pw@gpt-4o (a bare
# user@ is left alone there: Vertex names read claude-3-5-sonnet@20240620).
_SLASH_USERINFO = re.compile(r"(?<=/)[^/@\s\"'<>:]+:[^/\s\"'<>?#]*@")
# A fragment (#token=...) counts too; "pw"/"pwd" only as a whole name or a suffix (db_pw).
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;#](?:[^=&\s\"'<>#]*(?:key|token|secret|pass|auth|sig|cred|session)"
    r"[^=&\s\"'<>#]*|(?:[^=&\s\"'<>#]*[_-])?pwd?)=)"
    r"(?P<value>[^&\s\"'<>#]+)",
    re.IGNORECASE,
)
# Token-sized values only, so "the bearer of" or a file named hf_dataset stay as they are.
_BEARER = re.compile(
    r"(?P<name>\bbearer(?:\s|%20|\+)+)(?P<value>[A-Za-z0-9._~+/=-]{12,})", re.IGNORECASE
)  # a URL-encoded space (Bearer%20...) in an echoed request path as well
_KEY_LIKE = re.compile(
    r"\b(?P<name>sk-(?:ant-|proj-)?)(?P<value>[A-Za-z0-9_-]{16,})|\b(?P<hf>hf_)[A-Za-z0-9]{30,}"
)
_MIN_ENV_SECRET = 6  # shorter values would blank ordinary words


def _env_secrets() -> list[str]:
    values = {
        value
        for name, value in os.environ.items()
        if (name in SECRET_ENV_VARS or name in _DECLARED or _SECRET_ENV_NAME.search(name))
        and len(value) >= _MIN_ENV_SECRET
    }
    return sorted(values, key=len, reverse=True)  # a longer secret first: it may hold a shorter


def scrub(text: str) -> str:
    """``text`` with every credential this module knows replaced by ``***``."""
    if not text:
        return text
    for secret in _env_secrets():
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(MASK + "@", text)
    text = _SLASH_USERINFO.sub(MASK + "@", text)
    text = _QUERY_SECRET.sub(lambda m: m["name"] + MASK, text)
    text = _BEARER.sub(lambda m: m["name"] + MASK, text)
    return _KEY_LIKE.sub(lambda m: (m["name"] or m["hf"]) + MASK, text)


def scrub_data(data: Any) -> Any:
    """A JSON-like value with :func:`scrub` applied to every string in it (keys included)."""
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [scrub_data(v) for v in data]
    return data


def scrub_url(url: str | None) -> str | None:
    """``url`` without user:password, with secret query values replaced by ``***``."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return scrub(url)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    query = urlencode(
        [
            (k, MASK if _SECRET_PARAM.search(k) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return scrub(urlunsplit((parts.scheme, netloc, parts.path, query, "")))
