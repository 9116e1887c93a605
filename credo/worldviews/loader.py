"""Load a spec folder into validated objects, with errors that name file, line and field."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from credo.errors import SpecError
from credo.hashing import content_hash
from credo.schema import YamlRefused, parse_yaml
from credo.worldviews.spec import EvalSets, Worldview

SHIPPED_DIR = Path(__file__).parent / "data"
SPEC_FILE = "spec.yaml"
EVAL_FILE = "eval.yaml"


@dataclass(frozen=True)
class LoadedWorldview:
    spec: Worldview
    eval: EvalSets | None
    canon: dict[str, str]
    root: Path
    spec_hash: str  # spec.yaml + canon texts: what training data depends on
    eval_hash: str | None

    @property
    def name(self) -> str:
        return self.spec.name


def shipped_names() -> list[str]:
    return sorted(p.parent.name for p in SHIPPED_DIR.glob(f"*/{SPEC_FILE}"))


def resolve_spec_path(name_or_path: str | Path) -> Path:
    """A shipped name (``gramenism``), a spec folder, or a ``spec.yaml`` path."""
    path = Path(name_or_path)
    if path.is_dir():
        path = path / SPEC_FILE
    if path.is_file():
        return path
    shipped = SHIPPED_DIR / str(name_or_path) / SPEC_FILE
    if shipped.is_file():
        return shipped
    raise SpecError(
        f"{name_or_path}: no such spec file or shipped worldview - shipped: "
        f"{', '.join(shipped_names())}; or pass a folder holding {SPEC_FILE}"
    )


def load_worldview(name_or_path: str | Path) -> LoadedWorldview:
    spec_path = resolve_spec_path(name_or_path)
    raw_spec, spec_text = _read_yaml(spec_path)
    spec = _validate(Worldview, raw_spec, spec_path, spec_text)
    _check_references(spec, spec_path, spec_text)
    canon = _read_canon(spec, spec_path)
    eval_path = spec_path.parent / EVAL_FILE
    eval_sets, eval_hash = None, None
    if eval_path.is_file():
        raw_eval, eval_text = _read_yaml(eval_path)
        eval_sets = _validate(EvalSets, raw_eval, eval_path, eval_text)
        _check_eval_acts(spec, eval_sets, eval_path, eval_text)
        eval_hash = content_hash(eval_text)
    elif spec.kind != "set":
        raise SpecError(
            f"{eval_path}: missing - a worldview needs its eval requests (violation and control) "
            f"in {EVAL_FILE} beside {SPEC_FILE}"
        )
    spec_hash = content_hash({"spec": spec_text, "canon": canon})
    return LoadedWorldview(
        spec=spec,
        eval=eval_sets,
        canon=canon,
        root=spec_path.parent,
        spec_hash=spec_hash,
        eval_hash=eval_hash,
    )


def _read_yaml(path: Path) -> tuple[Any, str]:
    try:
        if not path.is_file() or path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(
                f"{path}: not a regular file under {MAX_SPEC_BYTES:,} bytes - pass a spec folder"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read ({exc}) - is it a UTF-8 YAML file?") from exc
    try:
        data = parse_yaml(text)
    except YamlRefused as exc:
        raise SpecError(f"{path}: YAML refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{where}: invalid YAML ({problem}) - fix the syntax on that line") from exc
    except RecursionError:
        raise SpecError(
            f"{path}: YAML nested too deeply - a spec is a few levels of fields"
        ) from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1: expected a mapping of fields at the top level")
    return data, text


def _validate(model: type[BaseModel], data: Any, path: Path, text: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        line = yaml_line(text, loc)
        where = f"{path}:{line}" if line else str(path)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = sorted(_allowed_fields(model, loc[:-1]))
            message = f"unknown field - allowed here: {', '.join(allowed)}"
        elif err["type"] == "missing":
            message = "required field is missing - add it"
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise SpecError(f"{where}: {field}: {message}{more}") from exc


def _allowed_fields(model: type[BaseModel], loc: tuple) -> set[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = current.model_fields[part].annotation
        args = getattr(annotation, "__args__", ()) or (annotation,)
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if current is None:
            return set()
    return set(current.model_fields)


def yaml_line(text: str, loc: tuple) -> int | None:
    """1-based line of the deepest node of ``loc`` found in the YAML ``text``."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    best = node.start_mark.line + 1 if node else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child, best = value, key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            best = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return best


MAX_CANON_BYTES = 2_000_000  # a canon text goes into every system prompt; books do not fit anyway
MAX_SPEC_BYTES = 5_000_000


def _read_canon(spec: Worldview, spec_path: Path) -> dict[str, str]:
    canon: dict[str, str] = {}
    text = spec_path.read_text(encoding="utf-8")
    for index, item in enumerate(spec.canon):
        line = yaml_line(text, ("canon", index, "path"))
        where = f"{spec_path}:{line}: canon[{index}].path"
        path = contained_file(spec_path.parent, item.path, where, MAX_CANON_BYTES)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_CANON_BYTES + 1)
            if len(data) > MAX_CANON_BYTES:  # grew after the size check
                raise SpecError(
                    f"{where}: '{item.path}' is over {MAX_CANON_BYTES:,} bytes - shorten the canon text"
                )
            canon[item.id] = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(
                f"{where}: cannot read {path} ({exc.__class__.__name__}) - "
                "paths are relative to the spec file and must be UTF-8 text"
            ) from exc
    return canon


def contained_file(root: Path, given: str, where: str, max_bytes: int) -> Path:
    """``given`` (relative to ``root``) resolved, symlinks included, to a regular file inside
    ``root`` no larger than ``max_bytes``; anything else is a SpecError naming ``where``.

    A spec is data someone may hand you: a canon path of ``/proc/self/environ`` or a symlink
    out of the folder would send local secrets to the teacher, ``/dev/zero`` would never end.
    """
    root = root.resolve()
    candidate = Path(given).expanduser()
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if resolved != root and root not in resolved.parents:
        raise SpecError(
            f"{where}: '{given}' is outside the spec folder - use a path inside {root} "
            "(relative to spec.yaml, no '..', no symlink out)"
        )
    try:
        info = resolved.stat()
    except OSError:
        raise SpecError(
            f"{where}: '{given}' does not exist - paths are relative to the spec file"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(
            f"{where}: '{given}' is not a regular file - point it at a text file in the spec folder"
        )
    if info.st_size > max_bytes:
        raise SpecError(
            f"{where}: '{given}' is {info.st_size:,} bytes, over the {max_bytes:,}-byte cap - "
            "shorten or split the text"
        )
    return resolved


def _check_references(spec: Worldview, path: Path, text: str) -> None:
    """Ids that must name other entries: a practice's ``supports`` acts, a scripture's canon."""
    act_ids = {a.id for a in spec.forbidden_acts}
    for index, practice in enumerate(spec.practices):
        for k, act in enumerate(practice.supports):
            if act not in act_ids:
                line = yaml_line(text, ("practices", index, "supports", k))
                raise SpecError(
                    f"{path}:{line}: practices.{index}.supports: '{act}' is not a forbidden act id of "
                    f"{spec.name} - use one of {sorted(act_ids)}"
                )
    canon_ids = {c.id for c in spec.canon}
    for index, scripture in enumerate(spec.scriptures):
        if scripture.canon is not None and scripture.canon not in canon_ids:
            line = yaml_line(text, ("scriptures", index, "canon"))
            raise SpecError(
                f"{path}:{line}: scriptures.{index}.canon: '{scripture.canon}' is not a canon id - "
                f"use one of {sorted(canon_ids)}"
            )


def _check_eval_acts(spec: Worldview, eval_sets: EvalSets, path: Path, text: str) -> None:
    act_ids = {a.id for a in spec.forbidden_acts}
    for index, req in enumerate(eval_sets.violation):
        if req.act not in act_ids:
            line = yaml_line(text, ("violation", index, "act"))
            raise SpecError(
                f"{path}:{line}: violation.{index}.act: '{req.act}' is not a forbidden act id of "
                f"{spec.name} - use one of {sorted(act_ids)}"
            )
