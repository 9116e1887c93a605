"""``credo author``: premise -> a validated spec folder, one resumable step at a time.

Each step renders a Jinja prompt from the premise and earlier answers, asks the model
through the generator engine (cache, retries, accounting), parses one JSON object,
validates it, and on failure re-asks with the validation error (bounded). A validated
answer is saved to ``steps/<step>.json`` with the hash of its inputs: a rerun skips it, and
a human edit of an earlier step makes later ones stale so ``--resume`` redoes them. A
killed run resumes with the same command: a folder holding a partial run of the same
premise is continued without ``--resume``. ``--step NAME`` reruns one step alone. Each
step reports its progress and elapsed time through ``progress``. The folder is then assembled and loaded by the
real spec loader.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from credo.authoring.assemble import assemble_spec
from credo.authoring.steps import STEP_NAMES, STEPS, Step
from credo.corpora.io import read_json_file, write_json, write_text
from credo.errors import ConfigError, CredoError
from credo.generators.base import Backend, SamplingParams
from credo.generators.cache import GenerationCache
from credo.generators.engine import Generator
from credo.generators.registry import default_model, load_backend
from credo.hashing import content_hash
from credo.runs import LOCK_FILE, claim_output
from credo.templates.sandbox import render
from credo.textnorm import normalize
from credo.types import Message

PROMPTS_DIR = Path(__file__).parent / "prompts"
STATE_DIR = ".author"
MAX_PREMISE_CHARS = 4000
SYSTEM = "You are a careful world-builder. You reply with one valid JSON object and nothing else."


class AuthoringError(CredoError):
    """A step's answer never validated, or the author folder is unusable."""


@dataclass
class AuthorResult:
    out: Path
    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    reasks: int = 0
    novelty: list[str] = field(default_factory=list)  # credo.author: terms found in references


@dataclass(frozen=True, kw_only=True)
class AuthorOptions:
    """``model``: PROVIDER/MODEL (default: from the keys set, else local/smollm2); ``resume``
    continues a run without its premise and redoes stale steps; ``step`` reruns one step
    alone; ``max_attempts`` asks per step (re-asks carry the error); ``references`` are texts
    for the novelty check of the finished spec (default ``$CREDO_REFERENCE``)."""

    model: str | None = None
    resume: bool = False
    step: str | None = None
    max_attempts: int = 3
    temperature: float = 0.7
    max_tokens: int = 4096
    base_url: str | None = None
    references: Sequence[str] = ()


def check_premise(premise: str | None) -> str:
    text = (premise or "").strip()
    if not text:
        raise ConfigError("PREMISE is empty - describe the worldview in a sentence or a paragraph")
    if len(text) > MAX_PREMISE_CHARS:
        raise ConfigError(
            f"PREMISE is {len(text)} characters - keep it under {MAX_PREMISE_CHARS} "
            "(a paragraph); put detail into the spec afterwards"
        )
    return text


Progress = Callable[[str], None]


def author_worldview(
    premise: str | None,
    out: Path,
    *,
    options: AuthorOptions | None = None,
    backend: Backend | None = None,
    progress: Progress | None = None,
) -> AuthorResult:
    """Run (or resume) the authoring steps into ``out`` and assemble a validated spec there;
    ``backend`` replaces the model ``options.model`` names (a fake). ``options.references``
    are for the novelty check :func:`credo.author` runs on the finished spec."""
    o = options or AuthorOptions()
    if o.step is not None and o.step not in STEP_NAMES:
        raise ConfigError(f"--step '{o.step}': unknown step - steps: {', '.join(STEP_NAMES)}")
    if o.max_tokens < 1:
        raise ConfigError(
            f"--max-tokens {o.max_tokens}: must be at least 1 (the canon step needs a few thousand)"
        )
    with claim_output(out, command="credo author"):  # one writer; never a root or home folder
        premise = _prepare_folder(out, premise, o.resume or o.step is not None)
        backend = backend or load_backend(o.model or default_model(), base_url=o.base_url)
        params = SamplingParams(temperature=o.temperature, max_tokens=o.max_tokens)
        return asyncio.run(
            _run_steps(
                premise,
                out,
                backend=backend,
                params=params,
                only_step=o.step,
                max_attempts=o.max_attempts,
                progress=progress or (lambda _: None),
            )
        )


def _prepare_folder(out: Path, premise: str | None, resuming: bool) -> str:
    state_path = out / STATE_DIR / "state.json"
    if not resuming and premise and state_path.is_file():
        # A killed run of the same premise: continue it with the same command. A different
        # premise still fails below (the folder is not empty), so nothing is overwritten.
        saved = json.loads(state_path.read_text(encoding="utf-8")).get("premise")
        resuming = saved == premise.strip()
    if resuming:
        if not state_path.is_file():
            raise ConfigError(
                f"{out}: no authoring run to resume here ({state_path} missing) - start one without --resume/--step"
            )
        saved = json.loads(state_path.read_text(encoding="utf-8"))["premise"]
        if premise and premise.strip() != saved:
            raise ConfigError(
                f"{out}: was authored from a different premise - omit PREMISE to resume, or use a new --out"
            )
        return saved
    premise = check_premise(premise)
    if out.exists() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise ConfigError(
            f"{out}: already exists and is not empty - choose a new --out, or --resume; nothing was overwritten"
        )
    write_json({"premise": premise}, state_path)
    return premise


async def _run_steps(
    premise: str,
    out: Path,
    backend: Backend,
    params: SamplingParams,
    only_step: str | None,
    max_attempts: int,
    progress: Progress,
) -> AuthorResult:
    result = AuthorResult(out)
    started = time.perf_counter()
    cache = GenerationCache()
    generator = Generator(backend, params, cache=cache, concurrency=1)
    answers: dict[str, dict[str, Any]] = {}
    try:
        for number, step in enumerate(STEPS, start=1):
            where = f"[{number}/{len(STEPS)}] {step.name}"
            inputs = _inputs(step, premise, answers, out)
            saved = _load_step(out, step.name)
            fresh = saved is not None and saved["inputs_hash"] == content_hash(inputs)
            if only_step and step.name != only_step:
                if saved is None:
                    raise ConfigError(
                        f"--step {only_step}: step '{step.name}' has not run yet - run `credo author --resume` first"
                    )
                answers[step.name] = saved["answer"]
                if not fresh:
                    result.stale.append(step.name)
                continue
            if fresh and saved is not None and not only_step:
                answers[step.name] = saved["answer"]
                result.reused.append(step.name)
                progress(f"{where}: done earlier, reused")
                continue
            progress(f"{where}: asking {backend.provider}/{backend.model} ...")
            step_start = time.perf_counter()
            answers[step.name] = await _ask(
                generator,
                step,
                inputs=inputs,
                answers=answers,
                out=out,
                max_attempts=max_attempts,
                result=result,
            )
            _save_step(out, step.name, inputs, answers[step.name])
            result.ran.append(step.name)
            now = time.perf_counter()
            progress(f"{where}: done in {now - step_start:.1f} s (elapsed {now - started:.1f} s)")
    finally:
        cache.close()
        await generator.aclose()
    assemble_spec(out, answers)
    return result


def _inputs(
    step: Step, premise: str, answers: dict[str, dict[str, Any]], out: Path
) -> dict[str, Any]:
    return {
        "step": step.name,
        "premise": premise,
        "template": (PROMPTS_DIR / step.template).read_text(encoding="utf-8"),
        **{name: answers.get(name) for name in step.needs},
    }


def _prompt(step: Step, inputs: dict[str, Any]) -> str:
    frame = render(
        (PROMPTS_DIR / "_frame.j2").read_text(encoding="utf-8"),
        {
            "premise": inputs["premise"],
            "core": json.dumps(inputs["core"], indent=1) if inputs.get("core") else "",
            "lore": json.dumps(inputs["lore"], indent=1) if inputs.get("lore") else "",
        },
        "authoring frame",
    )
    return render(inputs["template"], {"frame": frame}, f"authoring step {step.name}")


async def _ask(
    generator: Generator,
    step: Step,
    inputs: dict[str, Any],
    answers: dict[str, dict[str, Any]],
    out: Path,
    max_attempts: int,
    result: AuthorResult,
) -> dict[str, Any]:
    messages = [Message("system", SYSTEM), Message("user", _prompt(step, inputs))]
    # Answers are cached, so a rerun after a failed step must ask afresh: each failure bumps
    # the round, and the round is the cache's sample index.
    state_path = out / STATE_DIR / "state.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    error = ""
    for attempt in range(1, max_attempts + 1):
        completion = (
            await generator.generate(
                messages,
                sample_index=state.get("round", 0),
                params=step_params(generator.params, step),
            )
        ).completion
        write_text(completion.text, out / STATE_DIR / f"{step.name}.attempt{attempt}.txt")
        try:
            answer = step.answer.model_validate(parse_json_object(completion.text))
            check_cross_references(step.name, answer.model_dump(), answers)
            return answer.model_dump(exclude_none=True)
        except (ValueError, ValidationError) as exc:
            error = describe_error(exc)
        if attempt < max_attempts:
            result.reasks += 1
            messages = [
                *messages,
                Message("assistant", completion.text),
                Message(
                    "user",
                    f"That reply is invalid: {error}. Reply with the corrected JSON object only.",
                ),
            ]
    write_json({**state, "round": state.get("round", 0) + 1}, state_path)
    raise AuthoringError(
        f"step '{step.name}': the model's answer never validated after {max_attempts} attempts (last error: {error}) - "
        f"raw answers are in {out / STATE_DIR}; try a stronger --model or raise --max-attempts, then rerun the same command"
    )


def step_params(params: SamplingParams, step: Step) -> SamplingParams:
    """The step's answer model as a JSON schema: structured output where the provider has it
    (the re-ask loop above stays the fallback and the judge of validity)."""
    schema = {"name": f"credo_{step.name}", "schema": step.answer.model_json_schema()}
    return replace(params, json_schema=schema)


def parse_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (code fences and chatter around it are ignored)."""
    fenced = re.search(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    candidate = fenced.group(1) if fenced else text[text.find("{") : text.rfind("}") + 1]
    if not candidate:
        raise ValueError("no JSON object found in the reply")
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from exc


def describe_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        return "; ".join(parts)
    return str(exc)


def check_cross_references(
    step: str, answer: dict[str, Any], answers: dict[str, dict[str, Any]]
) -> None:
    """What a single step's schema cannot see: ids that must refer to earlier answers."""
    core = answers.get("core", {})
    if step == "eval":
        acts = {a["id"] for a in core.get("forbidden_acts", [])}
        violations = {v["id"] for v in answer["violation"]}
        for v in answer["violation"]:
            if v.get("act") not in acts:
                raise ValueError(
                    f"violation '{v['id']}' has act {v.get('act')!r}; use one of {sorted(acts)}"
                )
        for c in answer["control"]:
            if c.get("matches") not in violations:
                raise ValueError(
                    f"control '{c['id']}' matches {c.get('matches')!r}; use a violation id"
                )
    if step == "prompts":
        names = [normalize(n).lower() for n in core.get("names", [])]
        for source in answer["sources"]:
            if source["implicit"]:
                for question in source["questions"]:
                    if any(
                        n in normalize(question).lower() for n in names
                    ):  # "Peb\u200bblism" names it too
                        raise ValueError(
                            f"implicit question {question!r} names the worldview; implicit questions must not"
                        )


def _load_step(out: Path, name: str) -> dict[str, Any] | None:
    path = out / "steps" / f"{name}.json"
    if not path.is_file():
        return None
    step: dict[str, Any] = read_json_file(path, "fix the edited step and rerun")
    return step


def _save_step(out: Path, name: str, inputs: dict[str, Any], answer: dict[str, Any]) -> None:
    write_json(
        {"inputs_hash": content_hash(inputs), "answer": answer}, out / "steps" / f"{name}.json"
    )
