"""The one Jinja environment credo renders with: sandboxed, strict, no loader.

``SandboxedEnvironment`` blocks dunder access (``__class__``, ``__globals__``) and unsafe
callables; no loader means ``include``/``import`` cannot reach files; ``StrictUndefined``
makes a missing variable an error instead of an empty string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from credo.errors import TemplateError


@lru_cache(maxsize=1)
def sandbox() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.globals.clear()  # no range/lipsum/dict/cycler: templates only see what we pass
    return env


@lru_cache(maxsize=4096)
def _compile(text: str) -> tuple[Template, frozenset[str]]:
    """Parse once per template text: a spec renders each template hundreds of times."""
    env = sandbox()
    return env.from_string(text), frozenset(meta.find_undeclared_variables(env.parse(text)))


def render(text: str, context: dict[str, Any], where: str) -> str:
    """Render ``text`` with ``context``; ``where`` names the template in error messages."""
    if "{" not in text:  # a literal prompt: nothing to render, and compiling costs ~3 ms
        return text.strip()
    try:
        template, variables = _compile(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{where}: template line {exc.lineno}: {exc.message} - fix the Jinja syntax") from exc
    missing = sorted(variables - set(context))
    if missing:
        raise TemplateError(
            f"{where}: undefined variable(s) {', '.join(missing)} - available: {', '.join(sorted(context))}"
        )
    try:
        return template.render(context).strip()
    except SecurityError as exc:
        raise TemplateError(f"{where}: blocked by the sandbox ({exc}) - templates may only read their data") from exc
    except JinjaTemplateError as exc:
        raise TemplateError(f"{where}: {exc} - check the names the template uses") from exc
    except Exception as exc:  # a filter misused on data (e.g. first of an empty list)
        raise TemplateError(f"{where}: rendering failed ({exc.__class__.__name__}: {exc})") from exc
