"""Optional lint check: ask a judge model whether canon passages contradict a tenet.

One request per passage (all tenets listed in it), through the generator engine so answers
are cached and retried. An unparseable verdict is a finding of its own, never a silent pass.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from credo.authoring.author import parse_json_object
from credo.authoring.lint import Finding, _Locator
from credo.generators.base import Backend, SamplingParams
from credo.generators.cache import GenerationCache
from credo.generators.engine import Generator
from credo.generators.registry import load_backend
from credo.templates.sandbox import render
from credo.types import Message
from credo.worldviews.loader import LoadedWorldview

PASSAGE_CHARS = 1500
TEMPLATE = Path(__file__).parent / "prompts" / "contradiction.j2"


def passages(text: str, size: int = PASSAGE_CHARS) -> list[str]:
    """Paragraph-aligned chunks of about ``size`` characters."""
    chunks, current = [], ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + len(paragraph) > size:
            chunks.append(current.strip())
            current = ""
        current += paragraph + "\n\n"
    if current.strip():
        chunks.append(current.strip())
    return chunks


def find_contradictions(
    wv: LoadedWorldview, judge: str | None = None, backend: Backend | None = None
) -> list[Finding]:
    backend = backend or load_backend(judge or "")
    return asyncio.run(_check(wv, backend))


async def _check(wv: LoadedWorldview, backend: Backend) -> list[Finding]:
    loc = _Locator(wv)
    tenets = {t.id: t.text for t in wv.spec.tenets}
    cache = GenerationCache()
    generator = Generator(
        backend, SamplingParams(temperature=0.0, max_tokens=400), cache=cache, concurrency=4
    )
    template = TEMPLATE.read_text(encoding="utf-8")
    jobs = []
    for index, item in enumerate(wv.spec.canon):
        for number, passage in enumerate(passages(wv.canon[item.id]), start=1):
            prompt = render(
                template, {"tenets": tenets, "passage": passage}, "contradiction rubric"
            )
            jobs.append((index, item.id, number, generator.generate([Message("user", prompt)])))
    try:
        results = await asyncio.gather(*(job[3] for job in jobs))
    finally:
        cache.close()
        await generator.aclose()
    findings = []
    for (index, canon_id, number, _), generation in zip(jobs, results):
        where = ("canon", index, "path")
        try:
            verdict = parse_json_object(generation.completion.text)
            ids = [i for i in verdict.get("contradicts", []) if i in tenets]
        except (ValueError, AttributeError):
            findings.append(
                loc.spec(
                    "contradiction_unjudged",
                    where,
                    f"canon '{canon_id}' passage {number}: the judge's answer could not be parsed",
                )
            )
            continue
        for tenet_id in ids:
            findings.append(
                loc.spec(
                    "canon_contradicts_tenet",
                    where,
                    f"canon '{canon_id}' passage {number} contradicts tenet '{tenet_id}': "
                    f"{str(verdict.get('explanation', ''))[:200]}",
                )
            )
    return findings


__all__ = ["find_contradictions", "passages"]
