"""Errors credo raises on purpose. Each message names the file, line or field and the fix.

The CLI prints ``str(error)`` on one line and exits 2; tracebacks only with ``CREDO_DEBUG=1``.
"""

from __future__ import annotations

from collections.abc import Mapping


class CredoError(Exception):
    """Base of every expected failure; its message is the one line a user sees."""

    exit_code = 2


class SpecError(CredoError):
    """A worldview spec, eval file or canon text is malformed."""


class TemplateError(CredoError):
    """A prompt template fails to parse, render or escape the sandbox."""


class CorpusError(CredoError):
    """A corpus or JSONL input is missing, unreadable or malformed."""


class BackendError(CredoError):
    """A generator backend cannot be built or keeps failing after retries."""


class ConfigError(CredoError):
    """An option, flag or config file value is invalid."""


class DependencyError(CredoError):
    """An optional dependency is missing; the message is the pip command to run."""


def missing_dependency(package: str, feature: str, extra: str = "ml") -> DependencyError:
    return DependencyError(
        f"{feature} needs the '{package}' package - install it with "
        f"`pip install '{package}'` (or `pip install -e '.[{extra}]'`)"
    )


def explain(
    exc: BaseException, problems: Mapping[type[BaseException], str], **fields: object
) -> str:
    """The one-line message for ``exc``: the template of the first type in ``problems`` it is
    an instance of, formatted with ``fields`` and the exception as ``exc``
    (``"{where}: not valid JSON ({exc.msg})"``). A caller catches ``tuple(problems)``."""
    template = next(text for kind, text in problems.items() if isinstance(exc, kind))
    return template.format(exc=exc, **fields)
