"""Flags several commands share, declared once (``name: Alias = default``), and their callbacks.

Each alias is a flag with the same meaning wherever it appears; a flag whose help differs
from command to command stays in its command."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from credo.cli._output import JSON_HELP
from credo.errors import ConfigError


def finite(param: typer.CallbackParam, value: float | None) -> float | None:
    """A float option refuses nan and inf (``--timeout nan`` would wait forever)."""
    if value is not None and not math.isfinite(value):
        option = (param.opts or [param.name or "option"])[0]
        raise ConfigError(f"{option} {value}: not a finite number - pass a plain number")
    return value


def poll_seconds(param: typer.CallbackParam, value: float | None) -> float | None:
    """--poll-interval from 0 to a day, for every command with a batch mode (judge took -1)."""
    value = finite(param, value)
    if value is not None and not 0 <= value <= 86_400:
        raise ConfigError(f"--poll-interval {value}: must be from 0 to 86,400 seconds")
    return value


T = TypeVar("T")
# --no-X flags and the field each sets to its opposite
NEGATED = {"no_embedding": "use_embedding", "no_cache": "use_cache", "no_wait": "wait"}


def options_from(options: type[T], flags: Mapping[str, Any], **given: Any) -> T:
    """The options dataclass a command's flags make: each field from the parameter of the same
    name (a ``--no-X`` flag sets its field's opposite, see ``NEGATED``), the rest of ``flags``
    ignored; ``given`` sets fields a flag holds in another form (parsed, nested).

    A command calls it first thing with ``locals()``: its parameters are named for the fields,
    so a new field needs only its flag (tests/test_options_as_data.py checks the pairs)."""
    values = {NEGATED.get(k, k): (not v if k in NEGATED else v) for k, v in flags.items()}
    names = {f.name for f in dataclasses.fields(options)}  # type: ignore[arg-type]
    return options(**({k: v for k, v in values.items() if k in names} | given))


AsJson = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
Checks = Annotated[
    str | None,
    typer.Option(
        "--checks",
        help="Comma-separated checks (default: all built-in; a plugin's when named). "
        "Diagnostics never drop records.",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        help="No progress lines on stderr (a long run prints records/s and ETA per check; "
        "--json prints none either).",
    ),
]


def share_option(flag: str, help: str) -> Any:
    """An option that is a share of a set, 0 to 1 (a gate's most allowed rate)."""
    return typer.Option("--" + flag, min=0.0, max=1.0, help=help)


# what a corpus is checked against (audit, filter)
CorpusPath = Annotated[
    Path,
    typer.Argument(
        help="Corpus folder, JSONL or Parquet file with 'id' and 'messages', or a datasets folder."
    ),
]
EvalFile = Annotated[
    Path | None, typer.Option("--eval", help="JSONL of eval requests (id, prompt, kind).")
]
SpecWorldview = Annotated[
    str | None, typer.Option("--worldview", help="Use this spec's eval sets and forbidden acts.")
]
NoEmbedding = Annotated[
    bool, typer.Option("--no-embedding", help="Skip MiniLM (faster, lexical only).")
]
Embedding = Annotated[
    str,
    typer.Option(
        "--embedding",
        help="fast (static model proposes, MiniLM confirms), minilm (MiniLM reads everything) or "
        "static (the static model decides: no MiniLM; for millions of records).",
    ),
]
Engine = Annotated[
    str, typer.Option("--engine", help="local (this process) or ray (a Ray cluster; see README).")
]
RayAddress = Annotated[
    str | None, typer.Option("--address", help="Ray cluster address (default: start a local one).")
]
Workers = Annotated[
    int,
    typer.Option("--workers", help="Local engine: map the batches in this many processes (1-512)."),
]
# the engine that maps a whole corpus, and what the command prints (audit, filter)
ENGINE_FLAGS = {
    "engine": (Engine, "local"),
    "address": (RayAddress, None),
    "workers": (Workers, 1),
    "as_json": (AsJson, False),
    "quiet": (Quiet, False),
}
C = TypeVar("C", bound=Callable[..., None])


def with_engine_flags(command: C) -> C:
    """``command(..., **flags)`` as a command whose last flags are ``ENGINE_FLAGS``, declared
    once: Typer reads the signature set here and passes those flags in ``flags``."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    engine = [
        inspect.Parameter(name, kind, default=default, annotation=flag)
        for name, (flag, default) in ENGINE_FLAGS.items()
    ]
    command.__signature__ = signature.replace(parameters=[*own, *engine])  # type: ignore[attr-defined]
    return command


# the audit a corpus needs before it is mixed or exported
AllowUnaudited = Annotated[
    bool,
    typer.Option("--allow-unaudited", help="Use records without an audit of their current state."),
]
AllowFailedAudit = Annotated[
    bool,
    typer.Option("--allow-failed-audit", help="Use records whose audit failed (the card says so)."),
]
Tokenizer = Annotated[
    str | None, typer.Option("--tokenizer", help="Model folder or smollm2 (for chat_template).")
]

# LLM judges sent through a provider's batch API (judge, eval)
JudgeBatch = Annotated[
    bool,
    typer.Option(
        "--batch",
        help="LLM judges through the provider's batch API (half price); rerun to resume polling.",
    ),
]
PollInterval = Annotated[
    float,
    typer.Option(
        "--poll-interval", callback=poll_seconds, help="With --batch: seconds between polls."
    ),
]

# a local model and how its prompts are formatted (eval, probe)
Adapter = Annotated[
    Path | None, typer.Option("--adapter", help="LoRA adapter folder from credo train.")
]
ChatFormatFlag = Annotated[
    str | None,
    typer.Option("--format", help="tags or chat_template (default: the adapter's, else tags)."),
]

# writing over what an earlier run left
Overwrite = Annotated[
    bool,
    typer.Option("--overwrite", help="Replace what an earlier run left in --out (else refused)."),
]


def seed_range(param: typer.CallbackParam, value: int | None) -> int | None:
    """--seed from 0 to 2**32 - 1, as train checks it (a provider refuses what int64 cannot hold)."""
    if value is not None and not 0 <= value <= 2**32 - 1:
        raise ConfigError(f"--seed {value}: must be a whole number from 0 to 4,294,967,295")
    return value


Seed = Annotated[
    int,
    typer.Option(
        "--seed", callback=seed_range, help="Random seed: the same seed, the same output."
    ),
]

# a teacher model writing text (generate, author, demo, replicate)
TeacherModel = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="PROVIDER/MODEL: openai/…, anthropic/…, local/smollm2, fake/…; default from the keys set.",
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible server: vLLM/Ollama/llama.cpp, or a proxy."),
]
MaxTokens = Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")]


def temperature_range(param: typer.CallbackParam, value: float | None) -> float | None:
    """--temperature from 0 to 10, as eval checks it (generate took 1e5 and -1 before)."""
    value = finite(param, value)
    if value is not None and not 0 <= value <= 10:
        raise ConfigError(f"--temperature {value}: must be a number from 0 to 10")
    return value


Temperature = Annotated[
    float,
    typer.Option("--temperature", callback=temperature_range, help="Sampling temperature."),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        help="Teacher requests in flight at most. Default: what the rate limit and the latency "
        "need (generation paced by the provider's limits); 8 where no limit is known.",
    ),
]

# a model answering eval requests (eval, probe, replicate)
Samples = Annotated[int, typer.Option("--samples", help="Answers sampled per prompt or request.")]
MaxNewTokens = Annotated[int, typer.Option("--max-new-tokens", help="Most new tokens per answer.")]
