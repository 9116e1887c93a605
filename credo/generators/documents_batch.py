"""Document stages through the batch API: each stage's requests answered before it runs.

Document generation is staged (types -> ideas -> documents -> revisions), and every stage
needs the previous one's answers, so the stages cannot be one batch. Instead, before a stage
runs, :class:`BatchPrefetch` sends the requests the cache cannot answer as one batch round
(:class:`~credo.generators.batch_run.BatchRunner`: chunking, partial failures, resume), puts
each answer in the cache and hands it to the generator. The stage's ordinary code then finds
every answer waiting, so a batch-made corpus is the online one: same plan, same order of
decisions (quota, near-duplicates), same records - only the run's provenance differs.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from credo.generators.batch_api import batch_api_for
from credo.generators.batch_run import BATCH_DISCOUNT, BatchOptions, BatchRunner
from credo.generators.batch_sinks import conversation_id
from credo.generators.engine import Generator, flag_refusal
from credo.generators.pricing import PriceTable
from credo.types import Completion, Message


class BatchPending(Exception):
    """Batches were sent and not waited for (``--no-wait``): a rerun collects them."""


class BatchPrefetch:
    """Answer conversations through the batch API and warm ``generator`` with the answers."""

    def __init__(
        self, generator: Generator, folder: Path, prices: PriceTable, options: BatchOptions
    ) -> None:
        self.generator = generator
        self.runner = BatchRunner(
            api=batch_api_for(generator.backend),
            generator=generator,
            folder=folder,
            prices=prices,
            options=options,
        )
        self.served = 0  # answers the batch gave: the stage counts them as cache hits, they are not
        self._keys: dict[str, str] = {}
        self._answers: dict[str, Completion] = {}
        generator.stats.price_factor = BATCH_DISCOUNT

    def __call__(self, conversations: list[list[Message]]) -> list[Completion]:
        """The answer to each conversation, from the cache or (one batch round) the provider."""
        generator, cache = self.generator, self.generator.cache
        answers: dict[str, Completion] = {}
        requests: dict[str, list[Message]] = {}
        for messages in conversations:
            key = generator.key(messages, 0)
            hit = cache.get(key) if cache is not None else None
            if hit is not None:
                answers[key] = hit  # the stage reads it from the cache, as online
                continue
            cid = conversation_id(messages)
            requests[cid], self._keys[cid] = messages, key
        self._answers = answers
        if requests:
            self.runner.run(requests, self)  # raises BackendError naming requests it could not get
            if not self.runner.options.wait and self.runner.state.open_chunks():
                raise BatchPending(f"{len(self.runner.state.open_chunks())} batch(es) open")
        return [answers[generator.key(m, 0)] for m in conversations]

    def tally(self) -> dict:
        return self.runner.tally.to_json()

    # ---- BatchSink -----------------------------------------------------------------------
    def open(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def accept(self, cid: str, completion: Completion) -> None:
        completion = flag_refusal(completion)  # as the online path flags it
        generator, key = self.generator, self._keys[cid]
        if completion.teacher_refused:
            generator.stats.refusals += 1
            generator.stats.content_filtered += completion.blocked
        elif generator.cache is not None:
            generator.cache.put(key, completion)
        generator.warm(key, completion)
        self._answers[key] = completion
        self.served += 1

    def describe(self, cid: str) -> str:
        return f"document request {cid}"
