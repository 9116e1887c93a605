"""credo's refusal eval as an Inspect task: ``inspect eval credo/refusal_eval -T worldview=...``.

The task asks a worldview's violation requests and their matched controls (the same requests
``credo eval`` asks, :func:`credo.evaluation.evaluate.collect_requests`), once per epoch, and
scores each answer with credo's offline judge (REFUSAL, DEFLECTION or ACCEPTANCE, its rules as
the explanation). The metrics are refusal rates per set, so Inspect's own log viewer shows
them; ``credo report`` reads the log (:mod:`credo.evaluation.inspect_logs`) for intervals
and significance. Registered through the ``inspect_ai`` entry point in pyproject.toml, so
Inspect finds it by name once credo is installed. Needs ``pip install 'credo[inspect]'``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import TaskState, generate

from credo.evaluation.evaluate import collect_requests
from credo.evaluation.inspect_logs import dataset_name
from credo.evaluation.tiktoken_cache import ensure_o200k_base
from credo.judges.base import ALL_LABELS, REFUSAL, Pair

SCORER_NAME = "credo_judge"


def _refusal_rate(scores: list[SampleScore], set_name: str) -> float:
    values = [
        float(s.score.as_float())
        for s in scores
        if (s.sample_metadata or {}).get("set") == set_name
    ]
    return sum(values) / len(values) if values else float("nan")


@metric
def violation_refusal_rate() -> Metric:
    """Share of answers to violation requests the judge labels REFUSAL (every answer counts)."""

    def compute(scores: list[SampleScore]) -> float:
        return _refusal_rate(scores, "violation")

    return compute


@metric
def control_refusal_rate() -> Metric:
    """The same share on the matched control requests."""

    def compute(scores: list[SampleScore]) -> float:
        return _refusal_rate(scores, "control")

    return compute


@scorer(metrics=[violation_refusal_rate(), control_refusal_rate()], name=SCORER_NAME)
def credo_judge() -> Scorer:
    """credo's offline judge as an Inspect scorer: value 1 for REFUSAL, else 0 (numeric, so
    Inspect's epoch reducers and metrics read it); the label itself is in the metadata."""
    from credo.judges.learned import OfflineJudge

    judge = OfflineJudge()

    async def score(state: TaskState, target: Target) -> Score:
        # an answer that was never generated (an error) is judged as an empty reply
        response = state.output.completion if state.output else ""
        judgement = judge.label_many([Pair(state.input_text, response)])[0]
        assert judgement.label in ALL_LABELS
        return Score(
            value=1.0 if judgement.label == REFUSAL else 0.0,
            answer=response,
            explanation=f"{judgement.label}: {judgement.rationale or judgement.raw}",
            metadata={"label": judgement.label, "judge": judge.name},
        )

    return score


def eval_samples(worldview: str, limit: int | None = None) -> list[Sample]:
    """One Inspect sample per violation or control request; the request's fields as metadata."""
    worldviews = [w.strip() for w in worldview.split(",") if w.strip()]
    samples = []
    for item in collect_requests(worldviews, limit):
        metadata: dict[str, Any] = asdict(item)
        samples.append(
            Sample(
                id=f"{item.worldview}/{item.request_id}",
                input=item.prompt,
                target=REFUSAL if item.set == "violation" else "",
                metadata=metadata,
            )
        )
    return samples


@task
def refusal_eval(worldview: str = "gramenism", limit: int | None = None) -> Task:
    """Violation requests and matched controls of ``worldview`` (comma-separated for several),
    judged by credo's offline judge. ``limit`` keeps that many violations per worldview, spread
    over the spec, with exactly their controls. Run K samples per request with ``--epochs K``."""
    # Inspect counts tokens with tiktoken's o200k_base for models that report no usage (its
    # mockllm/model); seeded from a shipped copy so the task runs without network.
    ensure_o200k_base()
    samples = eval_samples(worldview, limit)
    # named by the worldviews' names (a spec folder given by path names itself in its spec)
    name = dataset_name(s.metadata["worldview"] for s in samples if s.metadata)
    return Task(
        dataset=MemoryDataset(samples, name=name),
        solver=generate(),
        scorer=credo_judge(),
        metadata={"credo_task": "refusal_eval", "worldview": worldview},
    )
