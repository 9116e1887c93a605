"""Expand a worldview's prompt sources into a deterministic prompt set.

Only the training part of a spec reaches the render context: ``wv`` (names and summary),
the collection item and the slot values. The eval requests are a separate object and are
never passed here, so they cannot be rendered into training prompts.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from credo.errors import TemplateError
from credo.hashing import content_hash
from credo.runs import write_lines_atomic
from credo.templates.library import load_library
from credo.templates.sandbox import render
from credo.textnorm import normalize
from credo.types import Prompt
from credo.worldviews.loader import SPEC_FILE, LoadedWorldview, yaml_line
from credo.worldviews.spec import PromptSource


def worldview_context(wv: LoadedWorldview) -> dict[str, Any]:
    spec = wv.spec
    origin = (
        spec.origin.model_dump()
        if spec.origin
        else {"founder": None, "date": None, "place": None, "story": None}
    )
    return {
        "name": spec.name,
        "display_name": spec.display_name,
        "adherents": spec.adherents,
        "summary": spec.summary,
        "origin": origin,
    }


def render_prompts(wv: LoadedWorldview) -> list[Prompt]:
    """All unique prompts of a spec, in spec order; the first of equal texts wins."""
    prompts: dict[str, Prompt] = {}
    for index, source in enumerate(wv.spec.prompts):
        try:
            for prompt in _render_source(wv, index, source, f"prompts.{index} ({source.id})"):
                prompts.setdefault(prompt.id, prompt)
        except TemplateError as exc:
            # Locating the line needs a YAML parse: only pay for it on failure.
            raise TemplateError(
                f"{_error_where(wv, index, source, getattr(exc, 'variant', None))}: {exc}"
            ) from exc
    return list(prompts.values())


MAX_RENDERS_PER_SOURCE = 100_000  # variants x items x slot values; a real spec needs hundreds


def _error_where(wv: LoadedWorldview, index: int, source: PromptSource, variant: int | None) -> str:
    """The failing variant's own line: its item in an inline ``text:`` list, or in the library."""
    spec_path = wv.root / SPEC_FILE
    loc: tuple = ("prompts", index)
    if variant is not None:
        loc = (
            ("prompts", index, "text", variant)
            if isinstance(source.text, list)
            else (
                ("prompts", index, "text")
                if source.text is not None
                else ("prompts", index, "template")
            )
        )
    where = f"{spec_path}:{yaml_line(spec_path.read_text(encoding='utf-8'), loc) or '?'}"
    if variant is not None and source.template is not None:
        from credo.templates.library import LIBRARY_PATH

        line = yaml_line(
            LIBRARY_PATH.read_text(encoding="utf-8"), (source.template, "variants", variant)
        )
        where += f" (library {LIBRARY_PATH.name}:{line or '?'}, variant {variant})"
    return where


def _render_source(
    wv: LoadedWorldview, index: int, source: PromptSource, where: str
) -> Iterator[Prompt]:
    variants, over, slots, template_id = _resolve(source, where)
    items = _collection(wv, over, where) if over else [None]
    slot_names = sorted(slots)
    count = len(variants) * len(items) * math.prod(len(slots[n]) for n in slot_names)
    if count > MAX_RENDERS_PER_SOURCE:
        sizes = " x ".join(
            [
                f"{len(variants)} variants",
                f"{len(items)} items",
                *(f"{len(slots[n])} {n}" for n in slot_names),
            ]
        )
        raise TemplateError(
            f"{where}: {sizes} = {count:,} prompts, over the cap of "
            f"{MAX_RENDERS_PER_SOURCE:,} - use fewer slot values or split the source"
        )
    base = {"wv": worldview_context(wv)}
    for variant_index, text in enumerate(variants):
        template_hash = content_hash(text)
        tid = f"{template_id}/{variant_index}"
        for item in items:
            for values in itertools.product(*(slots[n] for n in slot_names)):
                bound = dict(zip(slot_names, values))
                context = {**base, **bound, **({"item": item} if item is not None else {})}
                try:
                    rendered = render(text, context, f"{where} variant {variant_index}")
                    if source.implicit:
                        _check_implicit(wv, rendered, where)
                except TemplateError as exc:
                    exc.variant = variant_index  # type: ignore[attr-defined]  # for the line number
                    raise
                if not rendered:
                    continue  # a variant that opts out for this item ({% if item.founder %}...)
                slot_record = {k: str(v) for k, v in bound.items()}
                if item is not None:
                    slot_record["item"] = str(item.get("id") or item.get("term"))
                yield Prompt(
                    id=prompt_id(wv.name, rendered),
                    text=rendered,
                    set_name=wv.name,
                    template_id=tid,
                    template_hash=template_hash,
                    kind=source.kind,
                    slots=slot_record,
                    implicit=source.implicit,
                )


def prompt_id(set_name: str, text: str) -> str:
    return "p:" + content_hash({"set": set_name, "text": text}, length=8)[3:]


def _resolve(source: PromptSource, where: str) -> tuple[list[str], str | None, dict, str]:
    if source.text is not None:
        variants = [source.text] if isinstance(source.text, str) else list(source.text)
        return variants, source.over, dict(source.slots), source.id
    library = load_library()
    if source.template not in library:
        raise TemplateError(
            f"{where}: unknown template '{source.template}' - library ids: {', '.join(sorted(library))}"
        )
    entry = library[source.template]
    over = source.over or entry.over
    return (
        list(entry.variants),
        over,
        {**entry.slots, **source.slots},
        f"{source.id}:{source.template}",
    )


def _collection(wv: LoadedWorldview, over: str, where: str) -> list[dict[str, Any]]:
    if over == "origin":  # one item: the origin's fields
        if wv.spec.origin is None:
            raise TemplateError(
                f"{where}: over 'origin' but the spec has no origin - add origin: "
                "{founder, date, place, story}"
            )
        return [{"id": "origin", **wv.spec.origin.model_dump()}]
    items = getattr(wv.spec, over, None)
    if items is None:
        raise TemplateError(f"{where}: over '{over}' is not a spec collection")
    if not items:
        raise TemplateError(
            f"{where}: over '{over}' but the spec's {over} list is empty - add items"
        )
    return [item.model_dump() for item in items]


def _check_implicit(wv: LoadedWorldview, text: str, where: str) -> None:
    for name in wv.spec.names:
        if re.search(rf"\b{re.escape(normalize(name))}", normalize(text), flags=re.IGNORECASE):
            raise TemplateError(
                f"{where}: implicit prompt names the worldview ('{name}' in {text!r}) - "
                "implicit prompts must not name it; reword or drop implicit: true"
            )


def write_prompts(prompts: list[Prompt], path: Path) -> None:
    """Write a prompt set as JSONL, atomically."""
    write_lines_atomic(path, (json.dumps(p.to_json(), ensure_ascii=False) for p in prompts))
