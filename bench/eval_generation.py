"""Eval generation throughput on SmolLM2: one request at a time vs batched.

Samples every prompt once per batch size through the same code ``credo eval`` uses
(:func:`credo.evaluation.local_generation.sample_responses`) and reports useful new tokens per
second (tokens up to each sample's stop point; padding and post-stop tokens excluded).

    .venv/bin/python bench/eval_generation.py [--prompts 16] [--max-new-tokens 48] [--batch 1 8 16]
"""

from __future__ import annotations

import argparse
import os

from credo.corpora.formats import ChatFormat
from credo.embedded import smollm2_path
from credo.evaluation.local_generation import sample_responses
from credo.models import load_local_model
from credo.worldviews import load_worldview


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--format", default="chat_template")
    parser.add_argument("--worldview", default="gramenism")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    wv = load_worldview(args.worldview)
    prompts = [r.prompt for r in wv.eval.violation + wv.eval.control][: args.prompts]
    local = load_local_model(str(smollm2_path()))
    fmt = ChatFormat(args.format, local.tokenizer)
    sample_responses(local, prompts[:2], fmt, max_new_tokens=4, batch_size=2)  # warm-up
    print(
        f"{len(prompts)} prompts, max_new_tokens {args.max_new_tokens}, format {args.format}, "
        f"temperature 0.25, torch threads {__import__('torch').get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("| batch size | samples | useful new tokens | seconds | tokens/s | samples/s |")
    print("|---|---|---|---|---|---|")
    for batch in args.batch:
        run = sample_responses(
            local, prompts, fmt, max_new_tokens=args.max_new_tokens, batch_size=batch, seed=0
        )
        n = sum(len(g) for g in run.samples)
        print(
            f"| {batch} | {n} | {run.new_tokens} | {run.seconds:.1f} | {run.tokens_per_second:.1f} | "
            f"{n / run.seconds:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
