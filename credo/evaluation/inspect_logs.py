"""Inspect eval logs as credo eval results, so ``credo report`` compares runs made in Inspect.

A log of ``credo/refusal_eval`` (:mod:`credo.evaluation.inspect_task`) carries each request's
fields as sample metadata and credo's judge label as the score; :func:`results_from_log`
reads it with Inspect's own reader (``inspect_ai.log.read_eval_log``) into the same results
dict ``credo eval`` writes, so the report's Wilson intervals, Fisher tests and chart apply
unchanged. Needs ``pip install 'credo[inspect]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from credo.errors import CorpusError, missing_dependency
from credo.evaluation.eval_summary import summarise
from credo.evaluation.samples import EvalRequest, EvalSample
from credo.judges.base import ALL_LABELS, ERROR

INSPECT_SUFFIXES = (".eval", ".json")
REQUEST_FIELDS = ("worldview", "set", "request_id", "prompt", "form", "act", "matches")


def is_inspect_log(path: Path) -> bool:
    return path.is_file() and path.suffix in INSPECT_SUFFIXES


def results_from_log(path: Path) -> dict[str, Any]:
    """The credo results dict (``kind: credo_eval``) of an Inspect log of credo's task."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise missing_dependency("inspect-ai", "reading Inspect logs", extra="inspect") from None
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # Inspect raises its own and pydantic errors for a foreign file
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise CorpusError(f"{path}: not a readable Inspect eval log ({first})") from None
    rows: list[EvalSample] = []
    labels: list[str] = []
    scorer = None
    for sample in log.samples or []:
        metadata = sample.metadata or {}
        if not all(key in metadata for key in REQUEST_FIELDS):
            raise CorpusError(
                f"{path}: sample {sample.id} has no credo request fields in its metadata - "
                "credo reads logs of the credo/refusal_eval task"
            )
        request = EvalRequest(**{key: metadata[key] for key in REQUEST_FIELDS})
        scores = sample.scores or {}
        scorer = scorer or next(iter(scores), None)
        score = scores.get(scorer) if scorer else None
        label = str((score.metadata or {}).get("label", ERROR)) if score is not None else ERROR
        labels.append(label if label in ALL_LABELS else ERROR)
        output = sample.output.completion if sample.output else ""
        rows.append(
            EvalSample(
                request,
                sample.epoch - 1,
                output,
                str(sample.output.stop_reason) if sample.output else "error",
                (sample.output.usage.output_tokens if sample.output and sample.output.usage else 0),
                error=sample.error.message if sample.error else None,
            )
        )
    if not rows:
        raise CorpusError(f"{path}: the Inspect log holds no samples - was the eval run?")
    judge = "offline"  # credo's scorer is its offline judge (inspect_task.credo_judge)
    return {
        "kind": "credo_eval",
        "name": f"{log.eval.task}@{log.eval.model}",
        "config": {
            "inspect_log": path.name,
            "task": log.eval.task,
            "model": log.eval.model,
            "task_args": log.eval.task_args,
            "epochs": log.eval.config.epochs,
        },
        "primary_judge": judge,
        "n_requests": len({r.request.request_id for r in rows}),
        "n_samples": len(rows),
        "judges": {judge: {"summary": summarise(rows, labels), "scorer": scorer}},
    }
