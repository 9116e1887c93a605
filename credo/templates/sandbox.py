"""The one Jinja environment credo renders with: sandboxed, strict, no loader, bounded.

``SandboxedEnvironment`` blocks dunder access (``__class__``, ``__globals__``) and unsafe
callables; no loader means ``include``/``import`` cannot reach files; ``StrictUndefined``
makes a missing variable an error instead of an empty string.

A spec is data someone may hand you, so a template also gets resource limits: ``*``, ``+``
and ``%`` may not build a string or list over ``MAX_SEQUENCE`` items, ``**`` and ``*`` on
numbers may not build one over ``MAX_INT_BITS`` bits (``10**(10**8)`` never starts), a
number passed to a filter or method may not exceed ``MAX_INT_ARG`` (``center(10**9)``),
``str.format`` is unavailable, loops nest at most ``MAX_LOOP_DEPTH`` deep, the rendered
text stops at ``MAX_OUTPUT_CHARS`` and a render gets ``TIME_BUDGET_S`` seconds (enforced
with a timer signal where one is available: the main thread on POSIX).
"""

from __future__ import annotations

import functools
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from credo.errors import TemplateError, explain

MAX_OUTPUT_CHARS = 100_000  # a prompt is a few hundred characters
MAX_SEQUENCE = 100_000
MAX_INT_BITS = 4_096
MAX_INT_ARG = 100_000
MAX_LOOP_DEPTH = 3
TIME_BUDGET_S = 2.0
_BIG_WIDTH = re.compile(r"\d{6,}")  # a printf width of a million or more


class TemplateLimit(SecurityError):
    """A template went over one of the resource limits."""


class LimitedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        elif operator == "+" and _is_seq(left) and _is_seq(right):
            _check_size(len(left) + len(right))
        elif operator == "%" and isinstance(left, str) and _BIG_WIDTH.search(left):
            raise TemplateLimit(f"format widths over {MAX_INT_ARG:,} are not allowed")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        # Widths inside a format string ('{:>999999999}') cannot be checked before the call.
        if getattr(value, "__name__", None) in ("format", "format_map") and isinstance(
            getattr(value, "__self__", None), str
        ):
            raise TemplateLimit("str.format is not available in templates - use ~ to join text")
        return super().wrap_str_format(value)


def _is_seq(value: Any) -> bool:
    return isinstance(value, (str, list, tuple))


def _check_size(size: int) -> None:
    if size > MAX_SEQUENCE:
        raise TemplateLimit(
            f"a string or list of {size:,} items is over the {MAX_SEQUENCE:,} limit"
        )


def _check_power(base: Any, exponent: Any) -> None:
    big_int = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if big_int and (exponent > MAX_INT_BITS or abs(base).bit_length() * exponent > MAX_INT_BITS):
        raise TemplateLimit(f"{base} ** {exponent} is over the {MAX_INT_BITS}-bit number limit")
    floats = isinstance(base, float) or isinstance(exponent, float)
    if floats and abs(exponent) > MAX_INT_BITS:
        raise TemplateLimit(f"an exponent of {exponent} is over the limit of {MAX_INT_BITS}")


def _check_product(left: Any, right: Any) -> None:
    if _is_seq(left) and isinstance(right, int):
        _check_size(len(left) * right)
    elif _is_seq(right) and isinstance(left, int):
        _check_size(len(right) * left)
    elif (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise TemplateLimit(f"a product over the {MAX_INT_BITS}-bit number limit")


def _check_args(args: tuple, kwargs: dict) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT_ARG:
            raise TemplateLimit(f"an argument of {value:,} is over the {MAX_INT_ARG:,} limit")
        if isinstance(value, str) and "%" in value and _BIG_WIDTH.search(value):
            raise TemplateLimit(f"format widths over {MAX_INT_ARG:,} are not allowed")


def _limited_filter(function: Any) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_args(args[1:] if args and not isinstance(args[0], str) else args, kwargs)
        return function(*args, **kwargs)

    return wrapper


@lru_cache(maxsize=1)
def sandbox() -> LimitedSandbox:
    env = LimitedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.globals.clear()  # no range/lipsum/dict/cycler: templates only see what we pass
    env.filters = {name: _limited_filter(f) for name, f in env.filters.items()}
    return env


def _loop_depth(node: nodes.Node, depth: int = 0) -> int:
    here = depth + isinstance(node, nodes.For)
    return max([here, *(_loop_depth(child, here) for child in node.iter_child_nodes())])


@contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Raise TemplateLimit in the rendering thread after ``seconds`` (main thread, POSIX only)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TemplateLimit(f"rendering took over the {seconds:g} s budget")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expired)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # someone else's timer was running: give it back what is left
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


def _render_bounded(template: Template, context: dict[str, Any]) -> str:
    chunks, size = [], 0
    with _time_budget(TIME_BUDGET_S):
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimit(f"the rendered text is over {MAX_OUTPUT_CHARS:,} characters")
            chunks.append(chunk)
    return "".join(chunks)


@lru_cache(maxsize=4096)
def _compile(text: str) -> tuple[Template, frozenset[str]]:
    """Parse once per template text: a spec renders each template hundreds of times."""
    env = sandbox()
    tree = env.parse(text)
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        raise TemplateError(
            f"loops nest {_loop_depth(tree)} deep - at most {MAX_LOOP_DEPTH} are allowed"
        )
    return env.from_string(text), frozenset(meta.find_undeclared_variables(tree))


def render(text: str, context: dict[str, Any], where: str) -> str:
    """Render ``text`` with ``context``; ``where`` names the template in error messages."""
    if "{" not in text:  # a literal prompt: nothing to render, and compiling costs ~3 ms
        return text.strip()
    try:
        template, variables = _compile(text)
    except tuple(_BAD_TEMPLATE) as exc:
        raise TemplateError(explain(exc, _BAD_TEMPLATE, where=where)) from exc
    missing = sorted(variables - set(context))
    if missing:
        raise TemplateError(
            f"{where}: undefined variable(s) {', '.join(missing)} - available: {', '.join(sorted(context))}"
        )
    try:
        return _render_bounded(template, context).strip()
    except Exception as exc:
        raise TemplateError(explain(exc, _FAILED_RENDER, where=where)) from exc


# A template that does not compile, by the exception (the first that matches).
_BAD_TEMPLATE: dict[type[BaseException], str] = {
    TemplateSyntaxError: "{where}: template line {exc.lineno}: {exc.message} - fix the Jinja syntax",
    TemplateError: "{where}: {exc}",
    RecursionError: "{where}: the template nests too deeply to parse - simplify it",
}
# A render that fails, by the exception (the first that matches).
_FAILED_RENDER: dict[type[BaseException], str] = {
    TemplateLimit: "{where}: over a template limit ({exc}) - templates build short prompts",
    SecurityError: "{where}: blocked by the sandbox ({exc}) - templates may only read their data",
    JinjaTemplateError: "{where}: {exc} - check the names the template uses",
    # a filter misused on data (e.g. first of an empty list)
    Exception: "{where}: rendering failed ({exc.__class__.__name__}: {exc})",
}
