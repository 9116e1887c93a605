"""``credo new``: a commented spec folder that validates at once and explains every field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, StrictUndefined

from credo.errors import ConfigError
from credo.runs import building_dir, check_output, output_file_lock
from credo.worldviews.loader import load_worldview

SCAFFOLD_DIR = Path(__file__).parent / "scaffold"
FILES = {
    "spec.yaml.j2": "spec.yaml",
    "eval.yaml.j2": "eval.yaml",
    "overview.md.j2": "canon/overview.md",
}


def believer_nouns(display_name: str) -> tuple[str, str]:
    """('Pebblist', 'Pebblists') for 'Pebblism'; a plain fallback otherwise."""
    if display_name.lower().endswith("ism"):
        singular = display_name[:-3] + "ist"
        return singular, singular + "s"
    return f"{display_name} follower", f"followers of {display_name}"


@dataclass(frozen=True, kw_only=True)
class NewOptions:
    """``kind``: an ``invented`` worldview (the default) or a ``real`` one."""

    kind: str = "invented"


def scaffold_worldview(name: str, out: Path, kind: str = "invented") -> Path:
    """Write a new spec folder at ``out``; refuses to touch an existing non-empty folder."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(
            f"name '{name}': use lowercase letters, digits and underscores, starting with a letter"
        )
    if kind not in ("invented", "real"):
        raise ConfigError(f"--kind '{kind}': use invented or real")
    check_output(out, command="credo new")  # never a root or home folder, never a file
    with output_file_lock(out, "credo new"):  # a second `new` of this folder refuses
        _build(name, out, kind)
    return out


def _build(name: str, out: Path, kind: str) -> None:
    if out.exists() and any(out.iterdir()):
        raise ConfigError(
            f"{out}: already exists and is not empty - choose a new folder; nothing was written"
        )
    display_name = name.replace("_", " ").title()
    adherent, adherents = believer_nouns(display_name)
    # Plain (non-sandboxed) Jinja is fine here: the templates are credo's own files.
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
    context = {
        "name": name,
        "kind": kind,
        "display_name": display_name,
        "adherent": adherent,
        "adherents": adherents,
        "folder": str(out),
    }
    # built in a fresh hidden folder beside ``out`` (never a user's NAME.partial), then moved
    with building_dir(out) as staging:
        for source, target in FILES.items():
            text = env.from_string((SCAFFOLD_DIR / source).read_text(encoding="utf-8")).render(
                context
            )
            path = staging / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        load_worldview(staging)  # the scaffold must validate as written
        if out.exists():
            out.rmdir()
        staging.replace(out)
