"""Render a page from ``credo/reports/templates`` with autoescape on."""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2  # imported here: `credo --help` never pays for it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("credo.reports", "templates"),
        autoescape=True,  # every value is text unless a caller marks it safe (our own SVG)
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = lambda value: "" if value is None else value
    return env


def render_page(template: str, **context: Any) -> str:
    """The named template (e.g. ``audit.html.j2``) rendered with ``context``."""
    return _environment().get_template(template).render(**context)


def trusted(markup: str) -> Any:
    """Mark HTML that credo produced itself (matplotlib's SVG) as safe to embed."""
    from markupsafe import Markup

    return Markup(markup)


def png_data_uri(path: Path) -> str:
    """A PNG inlined as a ``data:`` URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def json_for_script(data: Any) -> Any:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` or ``<!--`` can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return trusted(text)
