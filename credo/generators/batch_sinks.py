"""Where batch answers go: a corpus folder (records, teacher refusals, cache) or memory.

:class:`~credo.generators.batch_run.BatchRunner` hands each answer to a sink by custom_id;
the sink alone knows what a custom_id stands for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from credo.corpora.io import RECORDS_FILE, JsonlAppender, repaired_record
from credo.corpora.manifest import REFUSALS_FILE
from credo.generators.engine import Generator, flag_refusal
from credo.generators.jobs import REFUSAL_KINDS, Job, RunIdentity, job_record, refusal_entry
from credo.hashing import content_hash
from credo.types import Completion, Message


def custom_id(job: Job) -> str:
    """The job id in the alphabet both providers accept (``[A-Za-z0-9_-]{1,64}``)."""
    return job.id.replace(":", "-")


class CorpusSink:
    """Batch answers into a corpus folder: records, teacher refusals and the cache, as online."""

    def __init__(
        self, jobs: list[Job], generator: Generator, identity: RunIdentity, out: Path
    ) -> None:
        self.jobs = {custom_id(job): job for job in jobs}
        self.generator, self.identity, self.out = generator, identity, out
        self.new_records = self.new_refusals = 0
        self._records: JsonlAppender | None = None
        self._refusals: JsonlAppender | None = None

    def requests(self) -> dict[str, list[Message]]:
        return {cid: job.messages for cid, job in self.jobs.items()}

    @contextlib.contextmanager
    def open(self) -> Iterator[None]:
        with (
            JsonlAppender(self.out / RECORDS_FILE) as records,
            JsonlAppender(self.out / REFUSALS_FILE) as refusals,
        ):
            self._records, self._refusals = records, refusals
            yield

    def accept(self, cid: str, completion: Completion) -> None:
        job = self.jobs[cid]
        completion = flag_refusal(completion, job.prompt.kind in REFUSAL_KINDS)
        stats = self.generator.stats
        assert self._records is not None and self._refusals is not None, "accept() inside open()"
        if completion.teacher_refused:
            self._refusals.write(refusal_entry(job, self.identity, completion))
            stats.refusals += 1
            stats.content_filtered += completion.blocked
            self.new_refusals += 1
        else:
            self._records.write(
                repaired_record(job_record(job, self.identity, completion)).to_json()
            )
            self.new_records += 1
            cache = self.generator.cache
            if cache is not None:  # keyed through this job, found by its custom_id
                cache.put(self.generator.key(job.messages, job.sample_index), completion)

    def describe(self, cid: str) -> str:
        job = self.jobs.get(cid)
        return f"prompt {job.prompt.id}" if job else cid


def conversation_id(messages: list[Message]) -> str:
    """A custom_id for a free-standing request: the hash of its conversation."""
    return content_hash([[m.role, m.content] for m in messages]).replace(":", "-")


class AnswerSink:
    """Batch answers kept in memory by custom_id (the LLM judge), read from and put in the cache."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.answers: dict[str, Completion] = {}
        self._keys: dict[str, str] = {}

    def uncached(self, requests: dict[str, list[Message]]) -> dict[str, list[Message]]:
        """The requests the cache cannot answer (cached answers are kept as they are found)."""
        cache, todo = self.generator.cache, {}
        for cid, messages in requests.items():
            key = self.generator.key(messages, 0)
            hit = cache.get(key) if cache is not None else None
            if hit is None:
                self._keys[cid], todo[cid] = key, messages
            else:
                self.answers[cid] = hit
                self.generator.stats.cache_hits += 1
        return todo

    def open(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def accept(self, cid: str, completion: Completion) -> None:
        self.answers[cid] = completion
        if self.generator.cache is not None and cid in self._keys:
            self.generator.cache.put(self._keys[cid], completion)

    def describe(self, cid: str) -> str:
        return f"request {cid}"
