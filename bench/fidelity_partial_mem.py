"""Bytes the fidelity check's partial holds in the audit's driver per unfaithful record.

    python bench/fidelity_partial_mem.py /tmp/ms100k [--records 5000] [--worldview gramenism]

Maps one batch of the corpus with the fidelity check, pickles the partial and loads it back
(what the driver receives from a worker), and measures under ``tracemalloc`` what the loaded
partial holds, divided by its unfaithful rows: the rows the check's reduce merges into one
list before it yields a finding, so what an audit holds of fidelity's findings until then.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import pickle
import tracemalloc
from pathlib import Path

from credo.audit.runner import build_checks, build_context
from credo.corpora.io import read_records, records_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--worldview", default="gramenism")
    args = parser.parse_args()
    ctx = build_context(args.corpus, worldview=args.worldview)
    (check,) = build_checks(["fidelity"], use_embedding=True)
    records = list(itertools.islice(read_records(records_path(args.corpus)), args.records + 1000))
    check.map_batch(records[:1000], ctx)  # models and caches first
    blob = pickle.dumps(check.map_batch(records[1000:], ctx))
    gc.collect()
    tracemalloc.start()
    part = pickle.loads(blob)
    gc.collect()
    held, rows = tracemalloc.get_traced_memory()[0], len(part["unfaithful"])
    del part
    gc.collect()
    size = held - tracemalloc.get_traced_memory()[0]
    print(f"{args.records} records, {rows} unfaithful rows: {size} bytes, {size / rows:.0f} a row")


if __name__ == "__main__":
    main()
