"""Flags several commands share, declared once (``name: Alias = default``), and their callbacks.

Each alias is a flag with the same meaning wherever it appears; a flag whose help differs
from command to command stays in its command."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from credo.cli._output import JSON_HELP
from credo.errors import ConfigError


def finite(param: typer.CallbackParam, value: float | None) -> float | None:
    """A float option refuses nan and inf (``--timeout nan`` would wait forever)."""
    if value is not None and not math.isfinite(value):
        option = (param.opts or [param.name or "option"])[0]
        raise ConfigError(f"{option} {value}: not a finite number - pass a plain number")
    return value


AsJson = Annotated[bool, typer.Option("--json", help=JSON_HELP)]

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
    typer.Option("--workers", min=1, help="Local engine: map the batches in this many processes."),
]

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
    typer.Option("--poll-interval", callback=finite, help="With --batch: seconds between polls."),
]

# a local model and how its prompts are formatted (eval, probe)
Adapter = Annotated[
    Path | None, typer.Option("--adapter", help="LoRA adapter folder from credo train.")
]
ChatFormatFlag = Annotated[
    str | None,
    typer.Option("--format", help="tags or chat_template (default: the adapter's, else tags)."),
]
