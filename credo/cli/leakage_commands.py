"""``credo leakage`` and ``credo probe``: is a worldview new, and what does a model already know?"""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api
from credo.cli._output import finish, to_stderr
from credo.cli.options import Adapter, AsJson, ChatFormatFlag, MaxNewTokens, options_from

WorldviewArgument = typer.Argument(..., help="Shipped worldview name or spec folder.")


def leakage(
    worldview: str = WorldviewArgument,
    reference: list[str] = typer.Option(
        ...,
        "--reference",
        "-r",
        help="Reference file/folder ('shipped' = the small text shipped with credo); repeatable.",
    ),
    out: Path = typer.Option(
        Path("leakage-report"), "--out", help="Folder for report.json/.md/.html."
    ),
    corpus: Path | None = typer.Option(
        None, "--corpus", help="Training corpus to sample for 13-gram overlap."
    ),
    sample: int = typer.Option(200, help="Training records sampled from --corpus."),
    text_field: str = typer.Option("text", help="JSONL field / Parquet column holding the text."),
    min_count: int = typer.Option(1, help="Occurrences at which a term collides."),
    online: str | None = typer.Option(
        None, help="Also count terms online: 'infini-gram' (off by default)."
    ),
    rebuild: bool = typer.Option(False, help="Rebuild the cached reference index."),
    workers: int = typer.Option(1, help="Processes that index reference files in parallel."),
    engine: str = typer.Option(
        "process", help="Index build: 'process' (local) or 'ray' (Ray tasks; needs ray)."
    ),
    address: str | None = typer.Option(
        None, help="Ray cluster address for --engine ray (default: a local Ray)."
    ),
    as_json: AsJson = False,
) -> None:
    """Check that a worldview's terms and texts are not already in pretraining-like text.

    Exit 0 when clean, 1 when a term of an invented worldview collides (and is not allowed
    with allow_collision in the spec), 2 on bad input.

    Example: credo leakage gramenism --reference shipped --reference fineweb.parquet --out leak/
    """
    from credo.leakage.check import LeakageOptions

    options = options_from(LeakageOptions, locals())
    report, code = api.check_leakage(worldview, reference, out, options=options, log=to_stderr)
    rows = report["terms"]
    collides = sum(r["verdict"] == "collides" for r in rows)
    canon = report["overlap"]["canon"]["fraction"]
    text = (
        f"{len(rows)} terms: {collides} collide, {len(report['gate']['collisions'])} not allowed; "
        f"canon 13-gram overlap {'-' if canon is None else f'{100 * canon:.1f}%'}; report in {out}"
    )
    if report["strength"]["weak"]:
        text += f"\nnote: {report['strength']['statement']}"
    finish({**report, "out": str(out)}, as_json, text, code)


def probe(
    worldview: str = WorldviewArgument,
    model: str = typer.Option(
        "smollm2", "--model", help="Model path, or 'smollm2' for the embedded model."
    ),
    adapter: Adapter = None,
    out: Path = typer.Option(Path("probe-report"), "--out", help="Folder for report.json/.md."),
    chat_format: ChatFormatFlag = None,
    max_new_tokens: MaxNewTokens = 48,
    questions: int = typer.Option(12, help="Questions asked (one per term)."),
    as_json: AsJson = False,
) -> None:
    """What a model already knows about a worldview: answers and per-token loss.

    Loss on canonical sentences vs the same words shuffled vs control sentences; run it
    before and after training to see what training instilled. Runs on CPU.

    Example: credo probe gramenism --model smollm2 --out probe/
    """
    from credo.leakage.probe import ProbeOptions

    options = options_from(ProbeOptions, locals())
    report = api.probe(worldview, out, options=options)
    loss = report["loss"]
    text = (
        f"mean loss/token: canon {loss['canon']['mean']:.3f}, shuffled {loss['shuffled']['mean']:.3f}, "
        f"control {loss['control']['mean']:.3f}; report in {out}"
    )
    finish({**report, "out": str(out)}, as_json, text)


COMMANDS = {"leakage": leakage, "probe": probe}
