"""The one credential scrubber: every string credo writes to disk, stderr or a log goes through it.

What it removes: ``user:password@`` in any URL, the values of secret-looking query parameters
(``?api-key=``, ``?key=``, ``token=``, ``sig=``...), bearer tokens, the values of named secrets
in a header, JSON or YAML line (``api-key: ...``, ``"api_key": "..."``, ``Authorization:
Basic ...``), ``sk-...``/``hf_...`` style keys and JWTs (a key cut by a line break included),
and the values of secret environment variables (``*_API_KEY``, ``*_TOKEN``, ...) that are set
in this process - as written, split across lines, percent-encoded or inside base64 (a Basic
header, a provider's echo). Records a teacher wrote are data and are never rewritten; manifests,
locks, error messages, state files and logs are.
"""

from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

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
# A key's tail on the next line counts when it looks like one (a digit in it): a terminal or
# a provider's message wrapped the key.
_WRAPPED = r"(?:(?:\r?\n|\\[rn])[ \t]*(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{4,})?"
_KEY_LIKE = re.compile(
    rf"\b(?P<name>sk-(?:ant-|proj-)?)(?P<value>[A-Za-z0-9_-]{{16,}}{_WRAPPED})"
    # an hf_ token, or a 12-character head of one right before a line break that cut it
    rf"|\b(?P<hf>hf_)(?:[A-Za-z0-9]{{30,}}|[A-Za-z0-9]{{12,}}(?=\r?\n|\\[rn])){_WRAPPED}"
    # a JWT: base64url parts, the first two JSON objects ("eyJ" is '{"'); cut anywhere after
    rf"|\b(?P<jwt>eyJ)[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{8,}}(?:\.[A-Za-z0-9_-]*)?"
    r"(?:(?:\r?\n|\\[rn])[ \t]*(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_.-]{4,})?"
)
# A named secret's value in a header, JSON, YAML or Python line: "api-key: V", "x-api-key: V",
# '"api_key": "V"', "'client_secret': 'V'", "Authorization: Basic V". Token-sized values only,
# so "password: must be set" or "api_key: None" stay.
_NAMED_SECRET = re.compile(
    r"(?P<name>\b(?:[A-Za-z0-9]+[-_])*"
    r"(?:api[-_]?key|api[-_]?token|access[-_]?token|auth[-_]?token|refresh[-_]?token"
    r"|client[-_]?secret|secret[-_]?key|secret|password|passwd|private[-_]?key"
    r"|(?:proxy-)?authorization)"
    r"[\"']?[ \t]*[:=][ \t]*[\"']?(?:(?:basic|bearer|token|digest)[ \t]+)?)"
    r"(?P<value>[A-Za-z0-9._~+/=-]{8,})",
    re.IGNORECASE,
)
# A run that may be base64 (a Basic header, an echo) or percent-encoded: decoded and scrubbed,
# it is masked whole when it held a secret.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_PERCENT_RUN = re.compile(
    r"(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2})*%[0-9A-Fa-f]{2}(?:[A-Za-z0-9._~+/=-]|%[0-9A-Fa-f]{2})*"
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
    secrets = _env_secrets()
    text = _scrub_plain(text, secrets)
    if "%" in text:
        text = _PERCENT_RUN.sub(lambda m: _mask_if_secret(m[0], unquote(m[0]), secrets), text)
    return _BASE64_RUN.sub(lambda m: _mask_if_secret(m[0], _b64(m[0]), secrets), text)


def _scrub_plain(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = _env_pattern(secret).sub(MASK, text)
    text = _USERINFO.sub(MASK + "@", text)
    text = _SLASH_USERINFO.sub(MASK + "@", text)
    text = _QUERY_SECRET.sub(lambda m: m["name"] + MASK, text)
    text = _BEARER.sub(lambda m: m["name"] + MASK, text)
    text = _NAMED_SECRET.sub(lambda m: m["name"] + MASK, text)
    return _KEY_LIKE.sub(lambda m: (m["name"] or m["hf"] or m["jwt"]) + MASK, text)


@lru_cache(maxsize=64)
def _env_pattern(secret: str) -> re.Pattern[str]:
    """A secret as written, with line breaks (or their escapes) anywhere in it, or
    percent-encoded: a wrapped echo or a URL still holds it."""
    wrapped = r"(?:\s|\\[rn])*".join(re.escape(c) for c in secret)
    encoded = quote(secret, safe="")
    forms = [wrapped] + ([re.escape(encoded)] if encoded != secret else [])
    return re.compile("|".join(forms), re.IGNORECASE if encoded != secret else 0)


def _b64(run: str) -> str:
    try:
        raw = base64.b64decode(run.replace("-", "+").replace("_", "/") + "=" * (-len(run) % 4))
    except ValueError:
        return ""
    return raw.decode("utf-8", "replace")


def _mask_if_secret(run: str, decoded: str, secrets: list[str]) -> str:
    """``run`` masked when what it decodes to holds a credential, else as it was."""
    if not decoded or decoded == run:
        return run
    return MASK if _scrub_plain(decoded, secrets) != decoded else run


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
