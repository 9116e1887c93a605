"""Progress of a long audit on stderr: records done, records/s, ETA, and each check's own rate.

Lines, not a bar, so that logs of cluster jobs read well. Throttled (one line every
``every`` seconds, the first after ``every`` seconds) and silent for corpora under
``min_records``: a small audit finishes before it would say anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

Clock = Callable[[], float]


def count_lines(path: Path) -> int | None:
    """Records in a JSONL file (its non-empty lines, counted in 1 MiB reads); None otherwise."""
    if path.suffix != ".jsonl" or not path.is_file():
        return None
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class AuditProgress:
    # the defaults of every audit's reporter (the tests of the commands lower them)
    EVERY = 5.0
    MIN_RECORDS = 10_000

    def __init__(
        self,
        total: int | None,
        write: Callable[[str], None],
        *,
        every: float | None = None,
        min_records: int | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.total, self.write, self.clock = total, write, clock
        self.every = self.EVERY if every is None else every
        min_records = self.MIN_RECORDS if min_records is None else min_records
        self.silent = total is not None and total < min_records
        self.started = clock()
        self.last = self.started

    def _due(self) -> bool:
        now = self.clock()
        if self.silent or now - self.last < self.every:
            return False
        self.last = now
        return True

    def mapped(self, done: int, seconds: Mapping[str, float]) -> None:
        """After each batch: ``done`` records so far, ``seconds`` each check has spent on them."""
        if not self._due():
            return
        if self.total:
            done = min(done, self.total)  # a retried batch (a Ray worker that died) counts once
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = done / elapsed
        line = f"audit: {done:,}"
        if self.total:
            line += f"/{self.total:,} records ({done / self.total:.0%})"
            left = (self.total - done) / rate if rate else 0.0
            line += f", {rate:,.0f} records/s, ETA {_duration(left)}"
        else:
            line += f" records, {rate:,.0f} records/s"
        slowest = sorted(seconds.items(), key=lambda kv: -kv[1])[:3]
        if slowest:
            per_check = ", ".join(f"{name} {done / max(s, 1e-9):,.0f}/s" for name, s in slowest)
            line += f" - slowest checks: {per_check}"
        self.write(line)

    def reducing(self, name: str) -> None:
        """Before a check folds its partials (dedup's pairs, contamination's neighbours); quick
        folds in a row say it once (a line at most every second)."""
        now = self.clock()
        if not self.silent and now - self.started >= self.every and now - self.last >= 1.0:
            self.write(
                f"audit: {name}: combining the batches ({_duration(self.clock() - self.started)} so far)"
            )
            self.last = self.clock()
