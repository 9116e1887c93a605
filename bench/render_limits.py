"""Cost of the template sandbox limits: rendering the shipped prompt sets with and without them.

"Without" renders the same compiled templates with plain ``Template.render`` (no output cap,
no time budget); "with" is credo's :func:`credo.templates.sandbox.render`. The binop and
argument checks apply to both (they live in the environment), so the difference is the
streaming output cap plus the per-render timer. Best of ``--repeat`` runs.

    .venv/bin/python bench/render_limits.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib
import time

from credo.templates import sandbox
from credo.worldviews import load_worldview

render_module = importlib.import_module(
    "credo.templates.render"
)  # the package re-exports a function of that name

SETS = ("gramenism", "regular", "refusal")


def unbounded(text: str, context: dict, where: str) -> str:
    if "{" not in text:
        return text.strip()
    template, _ = sandbox._compile(text)
    return template.render(context).strip()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    worldviews = [load_worldview(name) for name in SETS]
    prompts = sum(
        len(render_module.render_prompts(wv)) for wv in worldviews
    )  # also warms the compile cache

    def render_all() -> None:
        for wv in worldviews:
            render_module.render_prompts(wv)

    limited = best(render_all, args.repeat)
    render_module.render = unbounded
    try:
        plain = best(render_all, args.repeat)
    finally:
        render_module.render = sandbox.render
    print(
        f"{prompts} prompts ({', '.join(SETS)}): with limits {limited * 1000:.0f} ms "
        f"({limited / prompts * 1e6:.0f} us/prompt), without {plain * 1000:.0f} ms "
        f"({plain / prompts * 1e6:.0f} us/prompt); overhead {(limited - plain) / prompts * 1e6:.0f} us/prompt"
    )


if __name__ == "__main__":
    main()
