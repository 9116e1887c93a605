"""Inspect eval logs as credo eval results, so ``credo report`` compares runs made in Inspect.

A log of ``credo/refusal_eval`` (:mod:`credo.evaluation.inspect_task`) carries each request's
fields as sample metadata and credo's judge label as the score; :func:`results_from_log`
reads it with Inspect's own reader (``inspect_ai.log.read_eval_log``) into the same results
dict ``credo eval`` writes, so the report's Wilson intervals, Fisher tests and chart apply
unchanged. Needs ``pip install 'credo[inspect]'``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from credo.errors import CorpusError, missing_dependency
from credo.evaluation.eval_summary import summarise
from credo.evaluation.samples import EvalRequest, EvalSample
from credo.judges.base import ALL_LABELS, ERROR
from credo.schema import Strict, validate

INSPECT_SUFFIXES = (".eval", ".json")
REQUEST_FIELDS = ("worldview", "set", "request_id", "prompt", "form", "act", "matches")


def dataset_name(worldviews: Iterable[str]) -> str:
    """The Inspect dataset's name: ``credo-`` and the worldviews' names, in first-seen order."""
    return "credo-" + "-".join(dict.fromkeys(worldviews))


_Text = Annotated[str, Field(strict=True, min_length=1)]


class _RequestFields(Strict):
    """The request a sample of credo's task carries in its metadata (see inspect_task)."""

    worldview: _Text
    set: Literal["violation", "control"]
    request_id: _Text
    prompt: _Text
    form: _Text
    act: _Text | None
    matches: _Text | None


def is_inspect_log(path: Path) -> bool:
    return path.is_file() and path.suffix in INSPECT_SUFFIXES


def _read(path: Path) -> Any:
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise missing_dependency("inspect-ai", "reading Inspect logs", extra="inspect") from None
    try:
        return read_eval_log(str(path))
    except Exception as exc:  # Inspect raises its own and pydantic errors for a foreign file
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise CorpusError(f"{path}: not a readable Inspect eval log ({first})") from None


def pair_rows(path: Path) -> list[dict[str, Any]]:
    """Every sample of any Inspect log as a ``credo judge`` input line: ``id`` (sample id and
    epoch), ``prompt`` (the input's text), ``response`` (the model's completion) and, where the
    log was scored by credo's task, ``inspect_label`` (that judge's label, to compare with)."""
    log = _read(path)
    rows = []
    for sample in log.samples or []:
        row: dict[str, Any] = {
            "id": f"{sample.id}#{sample.epoch}",
            "prompt": _input_text(sample.input),
            "response": sample.output.completion if sample.output else "",
        }
        for score in (sample.scores or {}).values():
            if "label" in (score.metadata or {}):
                row["inspect_label"] = score.metadata["label"]
        rows.append(row)
    if not rows:
        raise CorpusError(f"{path}: the Inspect log holds no samples - was the eval run?")
    return rows


@contextmanager
def pairs_file(path: Path) -> Iterator[Path]:
    """``path`` itself, or for an Inspect log its samples as a JSONL of ``credo judge`` pairs
    (:func:`pair_rows`) in a temporary folder that lasts as long as the ``with``."""
    if not is_inspect_log(path):
        yield path
        return
    from credo.corpora.io import JsonlAppender

    rows = pair_rows(path)
    with tempfile.TemporaryDirectory(prefix="credo-inspect-") as tmp:
        pairs = Path(tmp) / f"{path.stem}.jsonl"
        with JsonlAppender(pairs) as writer:
            for row in rows:
                writer.write(row)
        yield pairs


def _input_text(value: Any) -> str:
    """A sample's input as text: a string as is, chat messages by their last user turn."""
    if isinstance(value, str):
        return value
    users = [m for m in value if getattr(m, "role", None) == "user"]
    return str(users[-1].text) if users else ""


def results_from_log(path: Path) -> dict[str, Any]:
    """The credo results dict (``kind: credo_eval``) of an Inspect log of credo's task."""
    log = _read(path)
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
        fields = validate(
            _RequestFields,
            {key: metadata[key] for key in REQUEST_FIELDS},
            f"{path}: sample {sample.id}",
            prefix="metadata.",
            error=CorpusError,
            hint="credo reads logs of the credo/refusal_eval task as Inspect wrote them",
        )
        if sample.epoch < 1:
            raise CorpusError(
                f"{path}: sample {sample.id}: epoch {sample.epoch} - Inspect counts epochs "
                "from 1; rerun the eval or restore the log"
            )
        request = EvalRequest(**fields.model_dump())
        scores = sample.scores or {}
        scorer = scorer or next(iter(scores), None)
        score = scores.get(scorer) if scorer else None
        label = str((score.metadata or {}).get("label", ERROR)) if score is not None else ERROR
        labels.append(label if label in ALL_LABELS else ERROR)
        output = sample.output.completion if sample.output else ""
        usage = _usage(sample)
        started = sample.started_at
        rows.append(
            EvalSample(
                request,
                sample.epoch - 1,
                response=output,
                stop_reason=str(sample.output.stop_reason) if sample.output else "error",
                new_tokens=usage.output_tokens if usage else 0,
                error=sample.error.message if sample.error else None,
                input_tokens=usage.input_tokens if usage else 0,
                seconds=sample.working_time,
                started_at=started.isoformat() if isinstance(started, datetime) else started,
                queued_seconds=_queued(sample.total_time, sample.working_time),
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


def _usage(sample: Any) -> Any:
    """A sample's token usage: its model's (a log made in Inspect), else its output's."""
    usages = list((sample.model_usage or {}).values())
    if usages:
        return usages[0]
    return sample.output.usage if sample.output else None


INSPECT_LOG_FILE = "inspect.eval"
# credo's stop reasons as Inspect names them
_STOP = {"stop": "stop", "length": "max_tokens", "content_filter": "content_filter"}


def write_inspect_log(
    out: Path, results: dict[str, Any], rows: list[EvalSample], items: int
) -> Path | None:
    """``credo eval``'s samples as an Inspect eval log (``inspect view`` shows it sample by
    sample: request, answer, every judge's label); None when inspect-ai is not installed.

    Scored like :mod:`credo.evaluation.inspect_task` (value 1 for REFUSAL by the primary
    judge, the label and every judge's labels in the metadata), so ``credo report`` and
    ``credo judge`` read it back like a log made in Inspect."""
    try:
        from inspect_ai.event import ModelEvent, ScoreEvent
        from inspect_ai.log import (
            EvalConfig,
            EvalDataset,
            EvalError,
            EvalLog,
            EvalMetric,
            EvalResults,
            EvalScore,
            EvalSpec,
            EvalStats,
            write_eval_log,
        )
        from inspect_ai.log import (
            EvalSample as InspectSample,
        )
        from inspect_ai.model import (
            ChatMessageAssistant,
            ChatMessageUser,
            GenerateConfig,
            ModelOutput,
            ModelUsage,
        )
        from inspect_ai.scorer import Score
    except ImportError:
        return None
    from credo.judges.base import REFUSAL

    config, primary = results["config"], results["primary_judge"]
    model = str(config["model"])
    generate_config = GenerateConfig(
        temperature=config.get("temperature"),
        max_tokens=config.get("max_new_tokens"),
        seed=config.get("seed"),
    )
    now = datetime.now(UTC)
    samples: list[Any] = []
    by_set: dict[str, list[bool]] = {"violation": [], "control": []}
    total = ModelUsage()
    spans: list[datetime] = [now]
    for row in rows:
        request = row.request
        label = str(row.labels.get(primary, {}).get("label", ERROR))
        by_set.setdefault(request.set, []).append(label == REFUSAL)
        # the sample list's Tokens and Duration columns read these
        usage = ModelUsage(
            input_tokens=row.input_tokens,
            output_tokens=row.new_tokens,
            total_tokens=row.input_tokens + row.new_tokens,
        )
        total = total + usage
        seconds = row.seconds  # None for a sample whose timing was not recorded
        queued = row.queued_seconds or 0.0  # waited for the pacer before the request left
        began = datetime.fromisoformat(row.started_at) if row.started_at else now
        started = began - timedelta(seconds=queued)
        completed = began + timedelta(seconds=seconds or 0.0)
        spans += [started, completed]
        output = ModelOutput.from_content(
            model,
            row.response,
            stop_reason=_STOP.get(row.stop_reason, "unknown"),  # type: ignore[arg-type]
        )
        output.usage, output.time = usage, seconds
        prompt = ChatMessageUser(content=request.prompt)
        target = REFUSAL if request.set == "violation" else ""
        rationale = row.labels.get(primary, {}).get("rationale")
        score = Score(
            value=1.0 if label == REFUSAL else 0.0,
            answer=row.response,
            explanation=f"{label} ({primary})" + (f": {rationale}" if rationale else ""),
            metadata={"label": label, "judge": primary, "labels": row.labels},
        )
        samples.append(
            InspectSample(
                id=f"{request.worldview}/{request.request_id}",
                epoch=row.sample + 1,
                input=request.prompt,
                target=target,
                messages=[prompt, ChatMessageAssistant(content=row.response, model=model)],
                output=output,
                scores={"credo_judge": score},
                metadata={key: getattr(request, key) for key in REQUEST_FIELDS},
                model_usage={model: usage},
                started_at=started.isoformat(),
                completed_at=completed.isoformat(),
                # working time is the model's (a retry's backoff included); the total adds
                # the time the sample queued for the rate-limit pacer
                total_time=None if seconds is None else round(seconds + queued, 3),
                working_time=seconds,
                # the transcript inspect view opens on: the model call, then the judge's score
                # (without events it claims they were dropped for size)
                events=[
                    ModelEvent(
                        model=model,
                        input=[prompt],
                        tools=[],
                        tool_choice="none",
                        config=generate_config,
                        output=output,
                        error=row.error,
                        timestamp=began,  # the request left after its queue
                        completed=completed,
                        working_time=seconds,
                    ),
                    ScoreEvent(score=score, target=target, scorer="credo_judge"),
                ],
                error=EvalError(message=row.error, traceback="", traceback_ansi="")
                if row.error
                else None,
            )
        )
    metrics = {
        f"{name}_refusal_rate": EvalMetric(
            name=f"{name}_refusal_rate", value=sum(flags) / len(flags) if flags else float("nan")
        )
        for name, flags in by_set.items()
    }
    began, ended = min(spans), max(spans)  # the first request to the log written
    log = EvalLog(
        status="success",
        eval=EvalSpec(
            created=now.isoformat(),
            task="credo/refusal_eval",
            task_args={"worldview": ",".join(config["worldviews"]), "limit": config["limit"]},
            # named by the worldviews' own names, never a spec folder's path
            dataset=EvalDataset(
                name=dataset_name(r.request.worldview for r in rows), samples=items
            ),
            model=model,
            config=EvalConfig(epochs=config["samples"]),
            metadata={"credo_eval": results["name"], "primary_judge": primary},
        ),
        results=EvalResults(
            total_samples=len(samples),
            completed_samples=sum(1 for r in rows if not r.error),
            scores=[EvalScore(name="credo_judge", scorer="credo_judge", metrics=metrics)],
        ),
        stats=EvalStats(
            started_at=began.isoformat(),
            completed_at=ended.isoformat(),
            model_usage={model: total},
        ),
        samples=samples,
    )
    path = out / INSPECT_LOG_FILE
    write_eval_log(log, str(path))
    return path


def _queued(total: float | None, working: float | None) -> float | None:
    """What a sample waited before its request left: total time less working time."""
    return None if total is None or working is None else round(max(0.0, total - working), 3)
