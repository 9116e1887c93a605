"""The ``credo`` command: a thin layer that assembles per-command modules.

Each module in ``COMMAND_MODULES`` names its commands in ``COMMANDS``; a command builds its
options dataclass from its flags, calls one :mod:`credo.api` function and prints. Expected failures are :class:`CredoError`: printed
as one line, exit 2 (tracebacks only with ``CREDO_DEBUG=1``).
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import re
import signal
import sys
import threading
from typing import TextIO

import typer
import typer.main

try:  # a recent Typer carries its own copy of click: its usage errors are these classes
    from typer._click import exceptions as click
except ImportError:  # an older Typer runs on click itself
    from click import exceptions as click  # type: ignore[no-redef]

from credo.cli._output import JSON_PRINTED, echo_json
from credo.cli.argv_rules import check_command_line
from credo.errors import CredoError
from credo.quiet import set_third_party_output
from credo.redact import scrub

COMMAND_MODULES = [
    "credo.cli.spec_commands",  # validate, worldviews, prompts
    "credo.cli.corpus_commands",  # show
    "credo.cli.authoring_commands",  # new, lint, author
    "credo.cli.mix_command",  # mix
    "credo.cli.export_command",  # export
    "credo.cli.train_command",  # train
    "credo.cli.replicate_command",  # replicate
    "credo.cli.sweep_command",  # sweep
    "credo.cli.generate_command",  # generate
    "credo.cli.batches_command",  # batches
    "credo.cli.judge_command",  # judge
    "credo.cli.eval_commands",  # eval, report
    "credo.cli.audit_commands",  # audit, filter
    "credo.cli.leakage_commands",  # leakage, probe
    "credo.cli.view_command",  # view, demo
]


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="credo",
        help="Build and audit the training data of belief -> behaviour experiments.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_global_options)
    for module_name in COMMAND_MODULES:
        for name, command in importlib.import_module(module_name).COMMANDS.items():
            app.command(name)(command)
    return app


def os_error_message(exc: OSError) -> str:
    """One line for a filesystem failure, naming the path and the fix."""
    where = exc.filename or "a file"
    fixes = {
        errno.ENOSPC: "the disk is full - free space and rerun the same command (what was written is kept)",
        errno.EDQUOT: "the disk quota is exceeded - free space and rerun the same command",
        errno.EACCES: "permission denied - pick a folder you can write to",
        errno.EPERM: "operation not permitted - pick a folder you can write to",
        errno.ENAMETOOLONG: "the name is too long for the filesystem - use a shorter path",
        errno.ENOTDIR: "a part of the path is a file, not a folder - pick another path",
        errno.EISDIR: "is a folder where a file was expected - pick another path",
        errno.EROFS: "the filesystem is read-only - pick another folder",
    }
    fix = fixes.get(
        exc.errno or 0, f"{exc.strerror or exc.__class__.__name__} - check the path and rerun"
    )
    return f"{where}: {fix}"


def _global_options(
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Log retries, rate-limit waits and cache use to stderr, and let third-party "
        "progress bars and warnings through (hidden by default).",
    ),
) -> None:
    """Build and audit the training data of belief -> behaviour experiments."""
    set_third_party_output(verbose)
    logger = logging.getLogger("credo")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)  # an earlier --verbose call in this process
    if verbose:
        # credo's own loggers only: the SDKs' per-request INFO lines would drown the retries.
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (pipes and test captures swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))  # a logged URL or header never shows a credential


_TERMINATED: list[bool] = []  # set when SIGTERM stopped this run


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM stops the run as Ctrl-C does - through ``finally`` blocks and exit handlers, so
    temp files and spill folders go (the default action would leave them).

    Inside an asyncio run the stop is a loop callback, never raised in the frame the signal
    landed in: raised inside a task's step, the task would keep the KeyboardInterrupt (and
    the loop stop with it) where nothing retrieves it, and asyncio would print "Task
    exception was never retrieved" after the run's last line. That happened whenever
    Ctrl-C was ignored (a background job), and in asyncio's shutdown, where its own SIGINT
    handler is gone."""
    signal.signal(signum, signal.SIG_DFL)  # a second SIGTERM ends it at once
    _TERMINATED.append(True)
    asyncio = sys.modules.get("asyncio")  # not imported yet: no loop is running
    try:
        loop = asyncio.get_running_loop() if asyncio is not None else None
    except RuntimeError:  # imported, but no loop runs in this thread now
        loop = None
    if loop is None:
        _interrupt()
    else:  # asyncio.run always runs its loop again on the way out, so the callback runs
        loop.call_soon_threadsafe(_interrupt)


def _interrupt() -> None:
    """Ctrl-C's own path (asyncio's handler cancels the main task), or KeyboardInterrupt."""
    if callable(signal.getsignal(signal.SIGINT)):
        signal.raise_signal(signal.SIGINT)
    else:  # SIGINT ignored (a background job): interrupt here
        raise KeyboardInterrupt


def _interrupted() -> None:
    """The last line and exit code of a run stopped by Ctrl-C (130) or SIGTERM (143)."""
    word, code = ("terminated", 143) if _TERMINATED else ("interrupted", 130)
    typer.echo(f"{word} - rerun the same command to resume", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    on_term = None
    if threading.current_thread() is threading.main_thread():
        on_term = signal.signal(signal.SIGTERM, _terminated)
    try:
        _main(argv)
    finally:
        if on_term is not None:
            signal.signal(signal.SIGTERM, on_term)


def _main(argv: list[str] | None) -> None:
    debug = bool(os.environ.get("CREDO_DEBUG"))
    as_json = "--json" in (sys.argv[1:] if argv is None else argv)
    JSON_PRINTED.clear()
    _TERMINATED.clear()
    try:
        app = build_app()  # inside the try: Ctrl-C or SIGTERM while importing is one line too
        # Not standalone: click's usage errors come here as exceptions, to be printed as one
        # line (click and Typer print a usage block and a boxed message).
        command = typer.main.get_command(app)
        problem = check_command_line(command, sys.argv[1:] if argv is None else argv)
        if problem:  # an option given twice, or one that does nothing with the others
            _fail(problem, 2, as_json)
        code = command.main(args=argv, prog_name="credo", standalone_mode=False)
    except getattr(click, "NoArgsIsHelpError", ()):  # click 8.2+
        sys.exit(2)  # the help is printed already
    except click.ClickException as exc:
        _fail(usage_error_line(exc, sys.argv[1:] if argv is None else argv), 2, as_json)
    except typer.Abort:  # end of input at a prompt
        typer.echo("aborted", err=True)
        sys.exit(1)
    except SystemExit as exc:
        if as_json and exc.code == 2 and not JSON_PRINTED:
            echo_json({"error": "the command line was not understood - see stderr", "exit_code": 2})
        raise
    except CredoError as exc:
        if debug:
            raise
        _fail(str(exc), exc.exit_code, as_json)
    except KeyboardInterrupt:
        _interrupted()
    except OSError as exc:  # disk full, permissions, a path the filesystem refuses
        if debug:
            raise
        _fail(os_error_message(exc), 2, as_json)
    except RecursionError:
        if debug:
            raise
        _fail("an input is nested too deeply to read - flatten it", 2, as_json)
    except RuntimeError as exc:  # pathlib's resolve() reports a symlink loop this way
        if debug or not str(exc).startswith("Symlink loop from "):
            raise
        where = str(exc).removeprefix("Symlink loop from ").strip("'")
        message = f"{where}: a symlink loop (the link points back at itself) - fix or remove it"
        _fail(message, 2, as_json)
    if code == 130:  # click turns Ctrl-C (and so SIGTERM) into exit 130
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def usage_error_line(exc: click.ClickException, args: list[str] | None = None) -> str:
    """Click's usage error as one line: the command, what was wrong (naming the option or
    argument, as click does) and the fix."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        where = ctx.command_path
    else:  # the parser raises some errors without a context: name the command from argv
        command = next((a for a in args or [] if not a.startswith("-")), "")
        where = f"credo {command}" if command.isidentifier() else "credo"
    usage = " ".join(ctx.get_usage().split()).replace("Usage: ", "") if ctx is not None else ""
    if isinstance(exc, click.NoSuchOption) and exc.option_name in ("--verbose", "-v"):
        fix = (
            f"it is credo's own option, before the command: credo {exc.option_name} {where[6:]} ..."
        )
    elif isinstance(exc, click.NoSuchOption):
        fix = f"drop it or pick one that '{where} --help' lists"
    elif isinstance(exc, click.MissingParameter):
        fix = f"give it: {usage}"
    elif isinstance(exc, click.BadOptionUsage) and "requires" in message:
        fix = f"give it a value (see '{where} --help')"
    elif isinstance(exc, (click.BadParameter, click.BadOptionUsage)):
        fix = f"give a value of the kind '{where} --help' names for it"
    elif "No such command" in message:
        fix = "'credo --help' lists the commands"
    elif usage:
        fix = f"the command line is: {usage}"
    else:
        fix = f"see '{where} --help'"
    first, rest = message[:1], message[1:]
    return f"{where}: {first.lower()}{rest} - {fix}"


def _fail(message: str, code: int, as_json: bool) -> None:
    """The one-line error on stderr; under ``--json`` also ``{"error": ...}`` on stdout, so a
    script reading stdout always gets one object."""
    message = scrub(message)  # a key or token in an error never reaches a terminal or log
    # One line even when a library's text (a YAML mark, a parser's report) spans several.
    message = re.sub(r"\s*[\r\n\u2028\u2029]+\s*", " ", message).strip()
    typer.echo(f"error: {message}", err=True)
    if as_json:
        echo_json({"error": message, "exit_code": code})
    sys.exit(code)


if __name__ == "__main__":
    main()


def exit_code(argv: list[str]) -> int:
    """Run ``credo ARGV`` in this process and return the exit code a shell would see."""
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
