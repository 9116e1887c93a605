"""A tqdm progress bar (rate and ETA) that also shows cache hits, retries and refusals."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm


class _Bar:
    def __init__(self, bar: tqdm, stats: Any) -> None:
        self._bar, self._stats, self._seen = bar, stats, 0

    def update(self, n: int) -> None:
        self._seen += n
        # Refreshing the postfix costs more than the update itself: do it every 16 records.
        if self._seen % 16 == 0:
            stats = self._stats
            self._bar.set_postfix(
                cached=stats.cache_hits,
                retries=stats.retries.retries,
                refused=stats.refusals,
                refresh=False,
            )
        self._bar.update(n)


@contextmanager
def progress_bar(total: int, enabled: bool, stats: Any) -> Iterator[_Bar]:
    bar = tqdm(
        total=total,
        unit="rec",
        desc="generate",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    )
    try:
        yield _Bar(bar, stats)
    finally:
        bar.close()
