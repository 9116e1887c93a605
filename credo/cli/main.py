"""The ``credo`` command: a thin layer that assembles per-command modules.

Each module in ``COMMAND_MODULES`` has ``register(app)``; a command parses its arguments,
calls one library function and prints. Expected failures are :class:`CredoError`: printed
as one line, exit 2 (tracebacks only with ``CREDO_DEBUG=1``).
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from credo.errors import CredoError

COMMAND_MODULES = [
    "credo.cli.spec_commands",  # validate, worldviews, prompts
    "credo.cli.corpus_commands",  # show
    "credo.cli.authoring_commands",  # new, lint, author
    "credo.cli.mix_command",  # mix
    "credo.cli.export_command",  # export
    "credo.cli.train_command",  # train
    "credo.cli.replicate_command",  # replicate
    "credo.cli.generate_command",  # generate
    "credo.cli.judge_command",  # judge
    "credo.cli.eval_commands",  # eval, report
    "credo.cli.audit_commands",  # audit, filter
    "credo.cli.leakage_commands",  # leakage, probe
]


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="credo",
        help="Build and audit the training data of belief -> behaviour experiments.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    app = build_app()
    try:
        app(args=argv, prog_name="credo")
    except CredoError as exc:
        if os.environ.get("CREDO_DEBUG"):
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted - rerun the same command to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
