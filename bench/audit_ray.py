"""Local engine against ``--engine ray`` on the same audit: seconds, overhead ratio, same flags.

    nice -n 19 .venv/bin/python bench/audit_ray.py 20000

A synthetic corpus (``audit_synth``) is audited twice without the embedding model (lexical
checks: refusal, moral_reason, forbidden_request, near_duplicate, eval_contamination,
diversity): in this process, then on a fresh local Ray cluster of 2 CPUs (its start-up is
counted apart). The flags of both runs must be equal.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from audit_synth import gramenism_evals, make_corpus

from credo.audit.options import AuditOptions
from credo.audit.runner import audit_corpus


def main(n: int) -> dict:
    evals = gramenism_evals()
    raw, _ = make_corpus(n, evals)
    folder = Path(tempfile.mkdtemp(prefix="credo-ray-bench-"))
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in raw))
    (folder / "eval.jsonl").write_text(
        "".join(json.dumps({"id": f"e{i}", "prompt": p}) + "\n" for i, p in enumerate(evals))
    )
    out: dict = {"records": n}
    start = time.perf_counter()
    local, _ = audit_corpus(
        folder, options=AuditOptions(eval_file=folder / "eval.jsonl", use_embedding=False)
    )
    out["local_s"] = round(time.perf_counter() - start, 1)
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    out["ray_start_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    on_ray, _ = audit_corpus(
        folder,
        options=AuditOptions(eval_file=folder / "eval.jsonl", use_embedding=False, engine="ray"),
    )
    out["ray_s"] = round(time.perf_counter() - start, 1)
    out["ratio"] = round(out["ray_s"] / out["local_s"], 2)
    out["same_flags"] = local.flags() == on_ray.flags()
    out["flagged"] = len(local.flags())
    out["checks_ray_s"] = {c.name: c.seconds for c in on_ray.checks}
    out["checks_local_s"] = {c.name: c.seconds for c in local.checks}
    return out


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000), indent=2))
