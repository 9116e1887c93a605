"""Generation jobs: one per (prompt, sample), each with a stable id and its teacher messages.

A job's id is the hash of what identifies its record - set, prompt id, sample index, model,
sampling params and seed - so a rerun of the same command plans the same ids and can skip
those already written. The persona is a function of (seed, prompt, sample), so it is part
of the identity without being spelled out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from credo.generators.base import SamplingParams
from credo.generators.personas import draw_persona, system_prompt
from credo.hashing import content_hash
from credo.runs import check_output
from credo.types import Completion, Message, Prompt, Record
from credo.worldviews.loader import LoadedWorldview

# Prompt kinds whose wanted answer is a decline: a worded refusal there is data, not a
# teacher refusal (provider blocks still are).
REFUSAL_KINDS = frozenset({"capability_refusal"})


@dataclass(frozen=True)
class Job:
    id: str
    prompt: Prompt
    sample_index: int
    persona_id: str
    messages: list[Message]  # system (persona + canon) then user; the system part is not saved


@dataclass(frozen=True)
class RunIdentity:
    """What a corpus folder is made of; resuming into a folder needs the same identity."""

    set_name: str
    spec_hash: str
    model: str
    params: SamplingParams
    samples: int
    seed: int

    @cached_property
    def params_json(self) -> dict[str, Any]:
        return self.params.to_json()

    def to_json(self) -> dict[str, Any]:
        """The fields in order, the set under its manifest name and the params as JSON."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return {"set": data.pop("set_name"), **data, "params": self.params_json}


def claim_folder(
    out: Path, wv: LoadedWorldview, *, owns: Iterable[str], overwrite: bool
) -> dict[str, Any]:
    """Check ``out`` for a generation run of ``wv`` before any request (resumable; the spec is
    an input, never written over); the same rules go to ``open_run``."""
    claim: dict[str, Any] = {
        "inputs": [wv.root / "spec.yaml", wv.root],
        "resumable": True,
        "owns": owns,
        "overwrite": overwrite,
    }
    check_output(out, **claim)
    return claim


def job_id(identity: RunIdentity, prompt_id: str, sample_index: int) -> str:
    return content_hash(
        {
            "set": identity.set_name,
            "prompt": prompt_id,
            "sample": sample_index,
            "model": identity.model,
            "params": identity.params_json,
            "seed": identity.seed,
        }
    )


def plan_jobs(
    wv: LoadedWorldview, prompts: list[Prompt], identity: RunIdentity, context_chars: int | None
) -> list[Job]:
    systems = {p.id: system_prompt(wv, p, context_chars) for p in wv.spec.personas}
    jobs = []
    for prompt in prompts:
        user = Message("user", prompt.text)
        for sample in range(identity.samples):
            persona = draw_persona(wv.spec.personas, identity.seed, prompt.id, sample)
            jobs.append(
                Job(
                    id=job_id(identity, prompt.id, sample),
                    prompt=prompt,
                    sample_index=sample,
                    persona_id=persona.id,
                    messages=[Message("system", systems[persona.id]), user],
                )
            )
    return jobs


def job_meta(job: Job, identity: RunIdentity, completion: Completion) -> dict[str, Any]:
    prompt = job.prompt
    return {
        "set": prompt.set_name,
        "prompt_id": prompt.id,
        "template_id": prompt.template_id,
        "template_hash": prompt.template_hash,
        "kind": prompt.kind,
        "implicit": prompt.implicit,
        "slots": prompt.slots,
        "persona_id": job.persona_id,
        "model": identity.model,
        "response_model": completion.model,
        "params": identity.params_json,
        "sample_index": job.sample_index,
        "seed": identity.seed,
        "stop_reason": completion.stop_reason,
        "usage": {
            "input_tokens": completion.usage.input_tokens,
            "output_tokens": completion.usage.output_tokens,
        },
    }


def job_record(job: Job, identity: RunIdentity, completion: Completion) -> Record:
    """The saved record: user and assistant turns only; the persona survives as its id."""
    user = next(m for m in job.messages if m.role == "user")
    return Record(
        id=job.id,
        messages=[user, Message("assistant", completion.text)],
        meta=job_meta(job, identity, completion),
    )


def refusal_entry(job: Job, identity: RunIdentity, completion: Completion) -> dict[str, Any]:
    """One line of ``teacher_refusals.jsonl``: the refused job, why, and what was said."""
    return {
        "id": job.id,
        "prompt": job.prompt.text,
        "response": completion.text,
        "reason": completion.refusal_reason or completion.stop_reason,
        "meta": job_meta(job, identity, completion),
    }
