"""``credo leakage`` and ``credo probe``: is a worldview new, and what does a model already know?"""

from __future__ import annotations

from pathlib import Path

import typer

from credo.cli._output import JSON_HELP, echo_json


def register(app: typer.Typer) -> None:
    app.command("leakage")(leakage)
    app.command("probe")(probe)


def leakage(
    worldview: str = typer.Argument(..., help="Shipped worldview name or spec folder."),
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
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check that a worldview's terms and texts are not already in pretraining-like text.

    Exit 0 when clean, 1 when a term of an invented worldview collides (and is not allowed
    with allow_collision in the spec), 2 on bad input.

    Example: credo leakage gramenism --reference shipped --reference fineweb.parquet --out leak/
    """
    from credo.leakage.check import check_leakage

    report, code = check_leakage(
        worldview,
        reference,
        out,
        corpus=corpus,
        sample=sample,
        text_field=text_field,
        min_count=min_count,
        online=online,
        rebuild=rebuild,
        workers=workers,
        engine=engine,
        address=address,
        log=lambda m: typer.echo(m, err=True),
    )
    if as_json:
        echo_json({**report, "out": str(out)})
        raise typer.Exit(code)
    rows = report["terms"]
    collides = sum(r["verdict"] == "collides" for r in rows)
    canon = report["overlap"]["canon"]["fraction"]
    typer.echo(
        f"{len(rows)} terms: {collides} collide, {len(report['gate']['collisions'])} not allowed; "
        f"canon 13-gram overlap {'-' if canon is None else f'{100 * canon:.1f}%'}; report in {out}"
    )
    if report["strength"]["weak"]:
        typer.echo(f"note: {report['strength']['statement']}")
    raise typer.Exit(code)


def probe(
    worldview: str = typer.Argument(..., help="Shipped worldview name or spec folder."),
    model: str = typer.Option(
        "smollm2", "--model", help="Model path, or 'smollm2' for the embedded model."
    ),
    adapter: Path | None = typer.Option(None, "--adapter", help="A LoRA adapter folder to apply."),
    out: Path = typer.Option(Path("probe-report"), "--out", help="Folder for report.json/.md."),
    chat_format: str | None = typer.Option(
        None,
        "--format",
        help="tags | chat_template (default: the adapter's training format, else tags).",
    ),
    max_new_tokens: int = typer.Option(48, help="Tokens per answer."),
    questions: int = typer.Option(12, help="Questions asked (one per term)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """What a model already knows about a worldview: answers and per-token loss.

    Loss on canonical sentences vs the same words shuffled vs control sentences; run it
    before and after training to see what training instilled. Runs on CPU.

    Example: credo probe gramenism --model smollm2 --out probe/
    """
    from credo.leakage.probe import run_probe

    report = run_probe(
        worldview,
        model,
        out,
        adapter=adapter,
        chat_format=chat_format,
        max_new_tokens=max_new_tokens,
        questions=questions,
    )
    if as_json:
        echo_json({**report, "out": str(out)})
        return
    loss = report["loss"]
    typer.echo(
        f"mean loss/token: canon {loss['canon']['mean']:.3f}, shuffled {loss['shuffled']['mean']:.3f}, "
        f"control {loss['control']['mean']:.3f}; report in {out}"
    )
