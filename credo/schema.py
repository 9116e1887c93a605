"""One validation layer for every config and state file credo reads (a leaf).

- :func:`load_yaml`: YAML with limits - a size cap on the document and on what its anchors
  expand to, so a "billion laughs" bomb (nine levels of nine aliases: 9**9 nodes from a few
  hundred bytes) is refused while it is still a few hundred nodes, before anything walks it;
  recursive anchors are refused too.
- :func:`read_json`: a JSON state file, with a one-line error that says how to recover.
- :func:`validate`: a pydantic model over loaded data, the first error as one line naming the
  file and the dotted field (``grid.size[0]``), never a traceback.

The models (sweep config, batch state, documents plan, ...) live beside the code that reads
them; the small constrained types here (:data:`PositiveInt`, :data:`FiniteFloat`, ...) give
every number a range, and models forbid unknown keys.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import sys
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credo.errors import ConfigError, CorpusError, CredoError, explain

YAML_MAX_BYTES = 2_000_000
YAML_MAX_NODES = 200_000  # nodes after alias expansion: far above any real config
JSON_MAX_BYTES = 50_000_000

M = TypeVar("M", bound=BaseModel)

# Numbers with a range: nan and inf are never a count, a rate or a size.
PositiveInt = Annotated[int, Field(ge=1, le=10**9, strict=True)]
NonNegativeInt = Annotated[int, Field(ge=0, le=10**12, strict=True)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Strict(BaseModel):
    """A model that names any key it does not know and never coerces a type silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that measures what a document expands to before constructing it."""

    max_nodes = YAML_MAX_NODES

    def compose_document(self) -> Any:
        node = super().compose_document()
        _expanded_size(node, self.max_nodes, {}, set())
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A key written twice in one mapping is an error (YAML keeps the last silently, so
        ``name: a`` then ``name: b`` would drop a value unseen); ``<<`` merges may repeat."""
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                    key_node, yaml.ScalarNode
                ):
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} appears twice in one mapping (first on line {seen[key]}) "
                        "- keep one",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: Any) -> int:
        """An integer of thousands of digits is a line-numbered YAML error, not Python's
        ValueError from its int-string limit (a traceback)."""
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a number of {len(str(node.value)):,} characters, over the "
                f"{sys.get_int_max_str_digits():,} digits read - write a smaller number",
                node.start_mark,
            ) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)


def _expanded_size(node: Any, budget: int, sizes: dict[int, int], open_: set[int]) -> int:
    """Nodes under ``node`` counting every alias as a full copy (memoised: linear in the
    document, whatever it expands to); raises once the count passes ``budget``."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise YamlRefused("an anchor refers to itself (a recursive alias)")
    if isinstance(node, yaml.ScalarNode):
        sizes[key] = 1
        return 1
    open_.add(key)
    children = (
        [child for pair in node.value for child in pair]
        if isinstance(node, yaml.MappingNode)
        else list(node.value)
    )
    total = 1
    for child in children:
        total += _expanded_size(child, budget, sizes, open_)
        if total > budget:
            raise YamlRefused(
                f"it expands to over {budget:,} values (anchors and aliases repeated) - "
                "write the values out or use fewer aliases"
            )
    open_.discard(key)
    sizes[key] = total
    return total


class YamlRefused(Exception):
    """A YAML document over the limits (its message says which)."""


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the expansion limit; raises ``yaml.YAMLError`` or
    :class:`YamlRefused` for callers that word their own errors (line numbers, SpecError)."""
    try:
        return yaml.load(text, Loader=_LimitedLoader)
    except RecursionError:  # every caller words YamlRefused with its file's name
        raise YamlRefused("nested too deeply - a config is a few levels") from None


def load_yaml(text: str, where: str | Path, max_bytes: int = YAML_MAX_BYTES) -> Any:
    """Parse one YAML document within the limits; a ConfigError names ``where`` otherwise."""
    if len(text) > max_bytes:
        raise ConfigError(
            f"{where}: {len(text):,} characters, over the {max_bytes:,} a config may hold"
        )
    try:
        return parse_yaml(text)
    except YamlRefused as exc:
        raise ConfigError(f"{where}: YAML refused: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({' '.join(str(exc).split())[:160]})") from None
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply - configs are a few levels") from None


def read_limited(path: Path, max_bytes: int) -> str | None:
    """``path``'s text, or None when it holds over ``max_bytes``: read, not ``stat``-ed, so a
    device or pipe (``/dev/zero``, a FIFO: size 0) cannot stream gigabytes into memory."""
    if stat.S_ISFIFO(os.stat(path).st_mode):  # with no writer, open() would wait forever
        raise OSError(errno.EINVAL, "a named pipe (FIFO), not a file")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None
    return data.decode("utf-8")


def read_yaml(path: Path, what: str = "config") -> Any:
    """Read and parse a YAML file with :func:`load_yaml`'s limits."""
    problems = {
        "over": "over the {limit:,} bytes a {what} may hold",
        "utf8": "not UTF-8 text - a {what} is a YAML file",
        "missing": "no such {what} - pass a YAML file",
        "folder": "is a folder - pass the {what} YAML file",
        "os": "cannot read ({strerror}) - pass a readable {what} YAML file",
    }
    text = _read_text(path, YAML_MAX_BYTES, problems, ConfigError, what=what)
    return load_yaml(text, path)


def _read_text(
    path: Path, limit: int, problems: dict[str, str], error: type[CredoError], **words: str
) -> str:
    """``path``'s text within ``limit`` bytes, or ``error`` with the caller's wording of the
    problem (``problems``: over, utf8, missing, folder, os; formatted with ``words``)."""

    def fail(problem: str, strerror: str = "") -> CredoError:
        template = problems.get(problem, problems["os"])
        return error(f"{path}: " + template.format(limit=limit, strerror=strerror, **words))

    try:
        text = read_limited(path, limit)
    except UnicodeDecodeError:
        raise fail("utf8") from None
    except FileNotFoundError as exc:
        raise fail("missing", exc.strerror or "") from None
    except IsADirectoryError as exc:
        raise fail("folder", exc.strerror or "") from None
    except OSError as exc:
        raise fail("os", exc.strerror or "") from None
    if text is None:
        raise fail("over")
    return text


def read_json(path: Path, recover: str, error: type[CredoError] = CorpusError) -> Any:
    """A JSON state file; corrupt, truncated or empty is one line ending with ``recover``."""
    problems = {
        "over": "over {limit:,} bytes - {recover}",
        "utf8": "not UTF-8 text - {recover}",
        "folder": "is a folder, not a file - {recover}",
        "os": "cannot read ({strerror}) - {recover}",
    }
    text = _read_text(path, JSON_MAX_BYTES, problems, error, recover=recover)
    if not text.strip():
        raise error(f"{path}: empty - {recover}")
    try:
        return loads_strict(text)
    except tuple(_BAD_JSON) as exc:
        raise error(explain(exc, _BAD_JSON, path=path, recover=recover)) from None


# What a JSON state file the parser refuses is, by the parser's exception (the first that matches).
_BAD_JSON: dict[type[BaseException], str] = {
    json.JSONDecodeError: "{path}: not valid JSON (line {exc.lineno}: {exc.msg}; truncated?) - {recover}",
    ValueError: "{path}: {exc} - {recover}",
    RecursionError: "{path}: JSON nested too deeply - {recover}",
}


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows - write null or a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} overflows a float - write a smaller number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):  # the rare case: find the key, for the message
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key!r} appears twice in one object - keep one")
            seen.add(key)
    return data


_STRICT = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite_float
)


def loads_strict(text: str) -> Any:
    """JSON as every credo reader takes it: no NaN or Infinity, no number that overflows a
    float, and no key twice in one object (Python keeps the last one silently, so
    ``{"id": "a", "id": "b"}`` would be record b). A ValueError (or RecursionError) otherwise."""
    return _STRICT.decode(text)


def validate(
    model: type[M],
    data: Any,
    where: str | Path,
    prefix: str = "",
    error: type[CredoError] = ConfigError,
    hint: str = "",
) -> M:
    """``data`` as ``model``; the first problem as one line: file, dotted field, what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        message = _message(model, first, prefix)
        raise error(f"{where}: {message}" + (f" - {hint}" if hint else "")) from None


def _message(model: type[BaseModel], first: Any, prefix: str) -> str:
    loc = tuple(first["loc"])
    field = prefix + _dotted(loc)
    bare = prefix + _dotted(tuple(p for p in loc if not isinstance(p, int)))
    kind, value = first["type"], first.get("input")
    if kind == "extra_forbidden":
        allowed = _fields(model, loc[:-1])
        return f"unknown key '{field}'" + (f" - use one of {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return f"missing key '{field}'"
    if kind == "literal_error":
        return f"{bare} {_shown(value)} is unknown - use {first['ctx']['expected']}"
    if kind == "value_error":
        return f"{bare} {str(first['msg']).removeprefix('Value error, ')}"
    reason = str(first["msg"])
    reason = f"{reason[:1].lower() + reason[1:]} (got {_shown(value)})"
    return f"{field}: {reason}" if field else reason


def _fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a model accepts at ``loc`` (for an unknown key's message)."""
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        annotation = getattr(info, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "constrained-")):
            out += ("." if out else "") + str(part)
    return out


def _shown(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
