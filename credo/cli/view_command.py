"""``credo view`` (a static page to browse records, flags and labels) and ``credo demo`` (the main job whole)."""

from __future__ import annotations

from pathlib import Path

import typer

from credo import api, defaults
from credo.cli._output import echo_json, finish, to_stderr
from credo.cli.options import AsJson, MaxTokens, NoEmbedding, Temperature, options_from

STATIC_PAGE_MAX = 20_000  # past this the one-file page takes seconds to open (BENCHMARKS.md)


def view(
    source: Path = typer.Argument(
        ..., metavar="OUT", help="Corpus, eval or judge folder (or its JSONL)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Page to write (default: OUT/view.html)."),
    audit: Path | None = typer.Option(
        None, "--audit", help="Folder of credo audit (flags.jsonl); default: OUT or OUT/audit."
    ),
    labels: Path | None = typer.Option(
        None, "--labels", help="Folder of credo judge (labels.jsonl) to show beside the records."
    ),
    serve: bool = typer.Option(
        False,
        "--serve",
        help="Instead of a page, serve the records on 127.0.0.1 from an index (paged, filtered server-side).",
    ),
    port: int = typer.Option(8000, "--port", help="Port for --serve (0 picks a free one)."),
    as_json: AsJson = False,
) -> None:
    """Write one self-contained page to browse records with their flags, labels, rationales and provenance.

    Filter by check or label, search text, open any record's meta; the filter is in the URL.
    --serve builds an SQLite index (once, in $CREDO_HOME) and serves only the viewer and its
    records API on 127.0.0.1, a page at a time: for corpora too large for one page.
    Example: credo view out/gramenism --audit audits/gramenism --labels judged/ --serve
    """
    if serve:
        _serve(source, audit, labels, port, as_json=as_json)
        return
    from credo.reports.viewer import ViewOptions

    result = api.view(source, out, options=ViewOptions(audit=audit, labels=labels))
    unmatched = (
        f"; {result.unmatched} flag/label rows matched no record" if result.unmatched else ""
    )
    text = (
        f"{result.records} records ({result.flagged} flagged, {result.labelled} labelled)"
        f"{unmatched} - wrote {result.page}"
    )
    finish(result, as_json, text)
    if result.records > STATIC_PAGE_MAX:
        to_stderr(
            f"warning: the page embeds all {result.records:,} records and loads slowly - "
            "`credo view --serve` pages them from an index instead"
        )


def _serve(
    source: Path, audit: Path | None, labels: Path | None, port: int, *, as_json: bool = False
) -> None:
    from credo.reports.viewer import ViewOptions

    server = api.serve_view(source, options=ViewOptions(audit=audit, labels=labels), port=port)
    if as_json:  # stdout holds one object; the server's address goes to stderr
        echo_json({"records": server.index.records, "url": server.url})
    typer.echo(f"{server.index.records} records - serving {server.url} - Ctrl-C stops", err=as_json)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.index.close()


def demo(
    out: Path = typer.Option(
        Path("out/demo"), "--out", help="Folder for the corpus, audit and page."
    ),
    worldview: str = typer.Option("gramenism", "--worldview", help="Shipped name or spec folder."),
    model: str = typer.Option(
        "local/smollm2", "--model", help="Teacher (the embedded model needs no key)."
    ),
    limit: int = typer.Option(defaults.DEMO_LIMIT, "--limit", help="Prompts to answer."),
    max_tokens: MaxTokens = defaults.DEMO_MAX_TOKENS,
    temperature: Temperature = defaults.DEMO_TEMPERATURE,
    no_embedding: NoEmbedding = False,
    as_json: AsJson = False,
) -> None:
    """Generate a small corpus with the embedded model, audit it, and print a one-screen summary.

    No key, no network. Exit 1 when an audit gate fails, like credo audit.
    Example: credo demo --out out/demo
    """
    from credo.recipes.demo import DemoOptions, demo_json, summary

    options = options_from(DemoOptions, locals())
    result = api.demo(out, options=options)
    finish(demo_json(result), as_json, "\n" + summary(result), 0 if result.audit.passed else 1)


COMMANDS = {"view": view, "demo": demo}
