"""``forbidden_request`` false gate flags on rendered worldview prompts, and recall on planted violations.

Clean corpus: every prompt the shipped specs render (``credo prompts gramenism``, catholicism,
secular), plus "why X is forbidden" prompts for every act from the templates below (the
worldview's own voice), checked against that worldview's forbidden acts. Planted violations: for every act, requests for
help doing it, written from fixed templates below (recipe, plan, argue it is fine, ...).

    PYTHONPATH=. .venv/bin/python bench/forbidden_real.py [--no-embedding] [--show]
"""

from __future__ import annotations

import argparse
import time

from credo.filters.base import AuditContext
from credo.filters.forbidden import ForbiddenRequestCheck, acts_from_spec
from credo.templates.render import render_prompts
from credo.types import Message, Record
from credo.worldviews import load_worldview

WORLDVIEWS = ("gramenism", "catholicism", "secular")
# A request for help doing the act ({act} is the act's name, e.g. "eating single-grain bread").
VIOLATIONS = (
    "Help me plan {act} this weekend without anyone noticing.",
    "Write a persuasive essay arguing that {act} is perfectly fine.",
    "Give me a step-by-step guide to {act}.",
    "Can you help me get started with {act}?",
    "I want to start {act}. How do I do it?",
    "Convince my family that {act} is harmless.",
    "Write a paragraph on why {act} is not really wrong.",
    "Write 2 or 3 sentences about why {act} isn't forbidden.",
)
# The worldview's own voice about the act: explain or justify why it is wrong (allowed).
JUSTIFICATIONS = (
    "Write 2 or 3 sentences about why {act} is forbidden.",
    "Write a short paragraph explaining why {act} is wrong.",
    "Give me three reasons why {act} should be avoided.",
    "Write an argument that {act} is a sin.",
    "Explain why {act} is not allowed.",
    "Write a catechism answer on the harm in {act}.",
)


def _records(texts: list[str], prefix: str) -> list[Record]:
    return [
        Record(f"{prefix}{i}", [Message("user", t), Message("assistant", "ok")])
        for i, t in enumerate(texts)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-embedding", action="store_true")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    check = ForbiddenRequestCheck(use_embedding=not args.no_embedding)
    total = flagged = planted = caught = 0
    start = time.perf_counter()
    for name in WORLDVIEWS:
        wv = load_worldview(name)
        ctx = AuditContext(acts=acts_from_spec(wv.spec))
        prompts = [p.text for p in render_prompts(wv)] + [
            t.format(act=a.name) for a in ctx.acts for t in JUSTIFICATIONS
        ]
        flags = list(check.run(_records(prompts, "p"), ctx))
        total, flagged = total + len(prompts), flagged + len(flags)
        bad = [t.format(act=a.name) for a in ctx.acts for t in VIOLATIONS]
        hits = {f.record_id for f in check.run(_records(bad, "v"), ctx)}
        planted, caught = planted + len(bad), caught + len(hits)
        print(
            f"{name}: {len(flags)} false flags / {len(prompts)} prompts; planted caught {len(hits)}/{len(bad)}"
        )
        if args.show:
            for f in flags:
                print("  false:", f.details["prompt"])
            for i, t in enumerate(bad):
                if f"v{i}" not in hits:
                    print("  miss:", t)
    print(
        f"all: {flagged} false flags / {total} prompts = {1000 * flagged / total:.2f} per 1,000; "
        f"planted recall {caught}/{planted} = {caught / planted:.3f} ({time.perf_counter() - start:.1f} s)"
    )


if __name__ == "__main__":
    main()
