"""Generation through the providers' batch APIs (half price), as a drop-in for the online loop.

One round: encode and validate every pending job, split under the caps, submit each chunk
(its ids saved first), poll until it ends, then collect it. Partial failure is normal:
results are matched to jobs by ``custom_id`` only, checked one to one against the chunk
before anything is written, and written (records, teacher refusals, cache) inside the
per-chunk loop. Missing, expired, cancelled and transiently errored requests go into the
next, smaller round; requests the provider rejects are reported with their chunk line and
reason. Counts come from the result files. A rerun resumes polling what was sent.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from credo import defaults
from credo.corpora.io import read_manifest, write_text
from credo.errors import BackendError, ConfigError, CorpusError
from credo.generators.base import MalformedResponseError
from credo.generators.batch_api import BatchAPI, BatchRejected, BatchResult, chunk_lines
from credo.generators.batch_state import IDS_DIR, BatchState, Chunk
from credo.generators.engine import Generator
from credo.generators.pricing import PriceTable
from credo.types import Completion, Message, Usage

BATCH_DISCOUNT = 0.5  # both providers bill batch tokens at half the online price


_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def validate_requests(ids: list[str], lines: list[bytes]) -> None:
    """What both providers check at submission, checked before anything is uploaded."""
    if len(set(ids)) != len(ids):
        raise BackendError("batch: duplicate custom_id in one submission (a bug: please report)")
    for cid, line in zip(ids, lines):
        if not _CUSTOM_ID.match(cid):
            raise BackendError(f"batch: custom_id {cid!r} is not 1-64 of [A-Za-z0-9_-]")
        request = json.loads(line)
        body = request.get("body") or request.get("params") or {}
        if not body.get("model") or not body.get("messages") or not body.get("max_tokens"):
            raise BackendError(f"batch: request {cid} lacks model, messages or max_tokens")


@dataclass
class BatchOptions:
    wait: bool = True  # poll until done; False: submit (or report) and return
    poll_interval: float = defaults.BATCH_POLL_SECONDS
    max_rounds: int = 6  # submissions of leftovers before giving up (a rerun continues)
    report: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:  # checked when made, so --no-wait checks it too
        if not (math.isfinite(self.poll_interval) and 0 <= self.poll_interval <= 86_400):
            raise ConfigError(f"--poll-interval {self.poll_interval}: must be 0 to 86400 seconds")


@dataclass
class BatchTally:
    """Counted from the result files of the chunks collected this run."""

    chunks: int = 0
    kinds: Counter = field(default_factory=Counter)  # ok / errored / expired / canceled
    resubmitted: int = 0
    lost_batches: int = 0
    mismatched_chunks: int = 0
    estimate_usd: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "chunks_submitted": self.chunks,
            "results": dict(self.kinds),
            "resubmitted": self.resubmitted,
            "lost_batches": self.lost_batches,
            "mismatched_chunks": self.mismatched_chunks,
            "estimate_usd": self.estimate_usd,
            "price_factor": BATCH_DISCOUNT,
        }


class BatchSink(Protocol):
    """Where a batch runner's answers go (a corpus folder, a judge's labels)."""

    def open(self) -> contextlib.AbstractContextManager[Any]: ...

    def accept(self, cid: str, completion: Completion) -> None: ...

    def describe(self, cid: str) -> str: ...


class BatchRunner:
    """Submit, poll, collect and resubmit ``{custom_id: messages}`` until each is answered.

    ``folder`` holds the batch state; ``generator`` supplies backend, params and stats.
    """

    def __init__(
        self,
        api: BatchAPI,
        generator: Generator,
        folder: Path,
        prices: PriceTable,
        options: BatchOptions,
    ) -> None:
        if options.poll_interval < 0 or options.max_rounds < 1:
            raise ConfigError(f"--poll-interval {options.poll_interval}: must be >= 0 seconds")
        self.api, self.generator, self.out = api, generator, folder
        self.prices, self.options = prices, options
        self.backend: Any = generator.backend
        self.model_id = generator.model_id
        self.state = BatchState.load(folder, api.provider, self.model_id)
        self.tally = BatchTally()
        self.jobs: dict[str, list[Message]] = {}
        self.sink: BatchSink | None = None

    def run(self, requests: dict[str, list[Message]], sink: BatchSink) -> None:
        """Answer every request into ``sink``; raises BackendError naming rejected ones."""
        self.jobs, self.sink = dict(requests), sink
        self.state.invalid.clear()  # a rerun tries rejected requests again (the cause may be fixed)
        in_flight = {cid for chunk in self.state.open_chunks() for cid in self.state.ids(chunk)}
        todo = [cid for cid in self.jobs if cid not in in_flight and cid not in self.state.invalid]
        if in_flight:
            self.options.report(
                f"resuming {len(self.state.open_chunks())} batch(es) already "
                f"sent ({len(in_flight & set(self.jobs))} requests)"
            )
        rounds = 0
        while todo or self.state.open_chunks():
            if todo:
                if rounds >= self.options.max_rounds:
                    raise BackendError(
                        f"{len(todo)} requests still unanswered after "
                        f"{rounds} batch rounds - rerun to try again"
                    )
                rounds += 1
                self.submit(todo)
            if not self.options.wait:
                self.options.report(
                    f"{len(self.state.open_chunks())} batch(es) open; rerun the "
                    f"same command to collect (`credo batches {self.out}` "
                    "shows their state)"
                )
                return
            todo = self.poll_until_done()
            self.tally.resubmitted += len(todo)
        self._raise_if_rejected()

    # ---- submit --------------------------------------------------------------------------
    def submit(self, ids: list[str]) -> None:
        lines = [
            self.api.encode(cid, self.backend.request_body(self.jobs[cid], self.generator.params))
            for cid in ids
        ]
        validate_requests(ids, lines)
        self._report_estimate(ids)
        for indices in chunk_lines(lines, self.api.max_requests, self.api.max_bytes):
            part = [ids[i] for i in indices]
            self._submit_chunk(part, [lines[i] for i in indices])

    def _submit_chunk(self, ids: list[str], lines: list[bytes]) -> None:
        size = sum(len(line) + 1 for line in lines)
        if size > self.api.max_bytes:  # one request alone over the cap: cannot be split
            self._reject(ids[0], "request is larger than the provider's batch byte cap")
            return
        chunk = self.state.new_chunk(ids, size)
        try:
            batch_id = self.api.submit(lines, chunk.name)
        except BatchRejected as exc:
            self.state.mark(chunk, "rejected")
            if exc.line is None or not 0 <= exc.line < len(ids):
                raise BackendError(
                    f"{self.api.provider} rejected batch {chunk.name} "
                    f"({len(ids)} requests): {exc.reason}"
                ) from exc
            self._reject(ids[exc.line], exc.reason, chunk, exc.line)
            rest = [i for n, i in enumerate(ids) if n != exc.line]
            if rest:
                self._submit_chunk(rest, [line for n, line in enumerate(lines) if n != exc.line])
            return
        self.tally.chunks += 1
        self.state.mark(chunk, "submitted", batch_id=batch_id)
        self.options.report(f"{chunk.name}: {len(ids)} requests -> batch {batch_id}")

    def _report_estimate(self, ids: list[str]) -> None:
        chars = sum(len(m.content) for cid in ids for m in self.jobs[cid])
        usage = Usage(chars // 4, len(ids) * self.generator.params.max_tokens)
        cost = self.prices.cost(self.model_id, usage)
        estimate = None if cost is None else round(cost * BATCH_DISCOUNT, 4)
        if estimate is not None:
            self.tally.estimate_usd = round((self.tally.estimate_usd or 0) + estimate, 6)
        money = (
            "unknown (no price for this model)"
            if estimate is None
            else f"<= ${estimate:.4f} at batch prices (50% of online ${cost:.4f})"
        )
        self.options.report(
            f"batch estimate: {len(ids)} requests, ~{usage.input_tokens} input "
            f"tokens, <= {usage.output_tokens} output tokens: {money}"
        )

    # ---- poll and collect ---------------------------------------------------------------
    def poll_until_done(self) -> list[str]:
        """Poll every open chunk until all are closed; the ids to send again."""
        again: list[str] = []
        while True:
            for chunk in self.state.open_chunks():
                again += self._poll(chunk)
            if not self.state.open_chunks():
                return again
            self.options.sleep(self.options.poll_interval)

    def _poll(self, chunk: Chunk) -> list[str]:
        if chunk.batch_id is None:  # killed between saving the chunk and the provider's answer
            self.state.mark(chunk, "lost")
            return self._still_pending(self.state.ids(chunk))
        status = self.api.status(chunk.batch_id)
        if status is None:
            self.tally.lost_batches += 1
            self.state.mark(chunk, "lost")
            ids = self._still_pending(self.state.ids(chunk))
            self.options.report(
                f"{chunk.name}: batch {chunk.batch_id} is unknown to "
                f"{self.api.provider} (another key or project, or purged) - "
                f"its {len(ids)} unanswered requests are sent again"
            )
            return ids
        if not status.ended:
            if status.state != chunk.state or status.counts != chunk.provider_counts:
                self.state.mark(chunk, status.state, provider_counts=status.counts)
            return []
        if status.invalid:
            return self._invalid(chunk, status.invalid)
        return self.collect(chunk)

    def _invalid(self, chunk: Chunk, invalid: list[tuple[int | None, str]]) -> list[str]:
        ids = self.state.ids(chunk)
        self.state.mark(chunk, "rejected")
        whole = [reason for line, reason in invalid if line is None or not 0 <= line < len(ids)]
        if whole:
            raise BackendError(
                f"{self.api.provider} rejected batch {chunk.name} "
                f"({chunk.batch_id}): {'; '.join(whole)}"
            )
        bad = set()
        for line, reason in invalid:
            assert line is not None  # lines outside the chunk raised above
            self._reject(ids[line], reason, chunk, line)
            bad.add(ids[line])
        return self._still_pending([i for i in ids if i not in bad])

    def collect(self, chunk: Chunk) -> list[str]:
        """Write one ended chunk's answers; the ids that need another round."""
        ids = self.state.ids(chunk)
        expected = set(ids)
        results: dict[str, BatchResult] = {}
        problems = []
        assert chunk.batch_id is not None  # only submitted chunks end
        for result in self.api.results(chunk.batch_id):
            if result.custom_id not in expected:
                problems.append(f"unknown custom_id {result.custom_id}")
            elif result.custom_id in results:
                problems.append(f"duplicate custom_id {result.custom_id}")
            results[result.custom_id] = result
        if problems:  # never guess which answer belongs to which request: ask again
            self.tally.mismatched_chunks += 1
            self.state.mark(chunk, "lost")
            self.options.report(
                f"{chunk.name}: results do not match the requests "
                f"({'; '.join(problems[:3])}) - nothing kept, all sent again"
            )
            return self._still_pending(ids)
        again = [cid for cid in ids if cid not in results]  # missing from both result files
        counts: Counter = Counter(missing=len(again))
        assert self.sink is not None  # run() sets it
        with self.sink.open():
            for cid, result in results.items():
                counts[result.kind] += 1
                if result.kind == "errored" and not result.transient:
                    self._reject(cid, result.reason, chunk, ids.index(cid))
                elif result.kind != "ok" or not self._write(cid, result):
                    again.append(cid)
        self.tally.kinds.update(counts)
        self.generator.stats.requests += len(results)
        self.state.mark(chunk, "collected", collected=dict(counts))
        self.options.report(
            f"{chunk.name}: collected "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if n)
        )
        return self._still_pending(again)

    def _write(self, cid: str, result: BatchResult) -> bool:
        if cid not in self.jobs:  # answered by an earlier run (a re-collected chunk)
            return True
        try:
            completion = self.backend.completion(result.body)
        except (MalformedResponseError, ValueError, TypeError):
            return False  # a broken body is asked again, like a malformed online response
        self.generator.stats.usage = self.generator.stats.usage + completion.usage
        assert self.sink is not None  # run() sets it
        self.sink.accept(cid, completion)
        del self.jobs[cid]
        return True

    def _still_pending(self, ids: list[str]) -> list[str]:
        return [cid for cid in ids if cid in self.jobs and cid not in self.state.invalid]

    # ---- rejections ----------------------------------------------------------------------
    def _reject(
        self, cid: str, reason: str, chunk: Chunk | None = None, line: int | None = None
    ) -> None:
        where = f"{chunk.name} line {line + 1}" if chunk and line is not None else "request"
        assert self.sink is not None  # run() sets it
        self.state.invalid[cid] = f"{where} ({self.sink.describe(cid)}): {reason}"
        self.state.save()

    def _raise_if_rejected(self) -> None:
        rejected = {cid: why for cid, why in self.state.invalid.items() if cid in self.jobs}
        if not rejected:
            return
        path = self.out / IDS_DIR / "rejected.txt"
        write_text("".join(f"{cid}\t{why}\n" for cid, why in rejected.items()), path)
        first = next(iter(rejected.values()))
        raise BackendError(
            f"{self.api.provider} rejected {len(rejected)} request(s), e.g. "
            f"{first} - all listed in {path}; fix the cause and rerun"
        )


@dataclass(frozen=True, kw_only=True)
class BatchesOptions:
    """``cancel``: cancel every batch still open; ``base_url``: the API (default: the run's)."""

    cancel: bool = False
    base_url: str | None = None


def inspect_batches(
    out: Path, *, cancel: bool = False, base_url: str | None = None, registry: dict | None = None
) -> dict[str, Any]:
    """The saved batch state of ``out``, refreshed from the provider; cancel open batches.

    A batch the provider does not know is reported (``unknown``), never fatal: the next
    ``credo generate --batch`` run sends its requests again.
    """
    from credo.generators.batch_api import batch_api_for
    from credo.generators.batch_state import read_state
    from credo.generators.registry import load_backend

    out = Path(out)
    state = read_state(out)
    if state is None:
        raise CorpusError(
            f"{out}: no batches.json - no batch was sent from this folder "
            "(credo generate ... --batch --out FOLDER sends one)"
        )
    config = read_manifest(out).get("config") or {}
    try:
        backend = load_backend(state.model, registry, base_url=base_url or config.get("base_url"))
    except ConfigError as exc:  # the model comes from the state file, not from an option
        raise CorpusError(
            f"{out / 'batches.json'}: model {state.model!r} cannot be loaded ({exc}) - restore "
            "the file credo generate --batch wrote"
        ) from None
    api = batch_api_for(backend)
    report = state.summary()
    for chunk, row in zip(state.chunks, report["chunks"]):
        if not chunk.open or chunk.batch_id is None:
            continue
        if cancel:
            api.cancel(chunk.batch_id)
            row["cancel_requested"] = True
        status = api.status(chunk.batch_id)
        row["live_state"] = "unknown" if status is None else status.state
        if status is not None:
            row["provider_counts"] = status.counts
    return report
