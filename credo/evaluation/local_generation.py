"""Batched sampling from a local transformers model (loaded by :func:`credo.models.load_local_model`).

Prompts go through :class:`credo.corpora.formats.ChatFormat`, the same object the trainer
formats examples with, so a model is evaluated in the format it was trained in. Every
(prompt, sample) job is flattened and run ``batch_size`` at a time with left padding; each
batch is seeded from ``seed`` and its index so a rerun draws the same samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from credo.corpora.formats import ChatFormat
from credo.defaults import EVAL_BATCH_SIZE, EVAL_MAX_NEW_TOKENS, EVAL_TEMPERATURE
from credo.models import LocalModel, load_local_model

if TYPE_CHECKING:
    from pathlib import Path

    from credo.generators.base import SamplingParams


@dataclass(frozen=True)
class Sampling:
    """How an eval draws responses, local or served (``batch_size``: local only)."""

    samples: int = 1
    temperature: float = EVAL_TEMPERATURE
    max_new_tokens: int = EVAL_MAX_NEW_TOKENS
    batch_size: int = EVAL_BATCH_SIZE
    seed: int = 0

    def params(self) -> SamplingParams:
        """The same draw for a served model: one request per sample."""
        from credo.generators.base import SamplingParams

        return SamplingParams(
            temperature=self.temperature, max_tokens=self.max_new_tokens, seed=self.seed
        )


def load_in_format(
    model: str, adapter: str | Path | None, fmt: str
) -> tuple[LocalModel, ChatFormat]:
    """A local model (with its adapter) and the chat format it was trained in."""
    local = load_local_model(model, adapter)
    return local, ChatFormat(fmt, local.tokenizer)


@dataclass(frozen=True)
class Sample:
    text: str  # the response, cut at the format's stop strings
    stop_reason: str  # "stop" (stop string or EOS) or "length"
    new_tokens: int  # generated tokens up to the stop point
    input_tokens: int = 0  # the prompt's tokens (padding not counted)
    seconds: float = 0.0  # wall time of the batch this sample was generated in
    started_at: str | None = None  # when that batch began (ISO 8601, UTC)


@dataclass(frozen=True)
class SamplingRun:
    samples: list[list[Sample]]  # [prompt][sample], in the caller's order
    seconds: float
    new_tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds else 0.0


def sample_responses(
    local: LocalModel,
    prompts: Sequence[str],
    chat_format: ChatFormat,
    *,
    samples: int = 1,
    temperature: float = EVAL_TEMPERATURE,
    max_new_tokens: int = EVAL_MAX_NEW_TOKENS,
    batch_size: int = EVAL_BATCH_SIZE,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> SamplingRun:
    """``samples`` responses to each user prompt; ``progress(n)`` after each batch."""
    # Similar lengths share a batch, so little of each batch is padding.
    jobs = sorted(
        ((p, s) for p in range(len(prompts)) for s in range(samples)),
        key=lambda job: (len(prompts[job[0]]), job),
    )
    texts = [chat_format.prompt(prompts[p]) for p, _ in jobs]
    results: list[Sample] = []
    started = time.perf_counter()
    for index in range(0, len(jobs), batch_size):
        batch = texts[index : index + batch_size]
        began, wall = time.perf_counter(), datetime.now(UTC).isoformat()
        done = _generate_batch(
            local,
            batch,
            chat_format=chat_format,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            seed=seed * 1_000_003 + index,
        )
        # every sample of a batch took the batch's time
        took = round(time.perf_counter() - began, 3)
        results += [replace(s, seconds=took, started_at=wall) for s in done]
        if progress:
            progress(len(batch))
    seconds = time.perf_counter() - started
    grouped: list[list[Sample | None]] = [[None] * samples for _ in prompts]
    for (p, s), sample in zip(jobs, results):
        grouped[p][s] = sample
    return SamplingRun(grouped, seconds, sum(s.new_tokens for s in results))  # type: ignore[arg-type]


def _generate_batch(
    local: LocalModel,
    texts: list[str],
    chat_format: ChatFormat,
    temperature: float,
    max_new_tokens: int,
    seed: int,
) -> list[Sample]:
    import torch

    tokenizer = local.tokenizer
    tokenizer.padding_side = "left"  # decoder-only: new tokens must follow every prompt directly
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Chat-template prompts already hold the special tokens; tags prompts are plain text.
    encoded = tokenizer(
        texts, return_tensors="pt", padding=True, add_special_tokens=chat_format.name == "tags"
    )
    options: dict[str, Any] = {
        "do_sample": temperature > 0,
        "max_new_tokens": max_new_tokens,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if temperature > 0:
        options.update(temperature=temperature, top_p=1.0, top_k=0)
    stops = [s for s in chat_format.stop_strings if s and s != tokenizer.eos_token]
    if stops:
        options.update(stop_strings=stops, tokenizer=tokenizer)
    torch.manual_seed(seed)
    with torch.inference_mode():
        output = local.model.generate(**encoded, **options)
    width = encoded["input_ids"].shape[1]
    prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()  # padding not counted
    return [
        _sample(row[width:].tolist(), tokenizer, chat_format, int(n))
        for row, n in zip(output, prompt_tokens)
    ]


def _sample(
    new: list[int], tokenizer: Any, chat_format: ChatFormat, input_tokens: int = 0
) -> Sample:
    eos = tokenizer.eos_token_id
    ended = eos in new
    if ended:
        new = new[: new.index(eos)]
    raw = tokenizer.decode(new, skip_special_tokens=False)
    text = chat_format.extract_response(raw)
    stopped = ended or any(s in raw for s in chat_format.stop_strings if s)
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id != eos:
        new = [t for t in new if t != tokenizer.pad_token_id]
    for special in tokenizer.all_special_tokens:  # e.g. a chat template's <|im_start|>
        text = text.replace(special, "")
    text = text.strip()
    return Sample(
        text=text,
        stop_reason="stop" if stopped else "length",
        new_tokens=len(new),
        input_tokens=input_tokens,
    )
