"""Output folders: one writer at a time, and never over an input or earlier work unless asked.

Every command that writes a folder goes through :func:`claim_output`:

- the folder must be a usable path: not ``/`` or another root, not a file, a name the
  filesystem accepts, writable;
- it must not be (or hold) one of the command's inputs - reading and replacing the same file
  loses data even with ``--overwrite``;
- it must not already hold another corpus, a mix or earlier labels, unless ``--overwrite``
  (a generation folder being resumed is the same corpus, not another);
- while the command runs it holds an exclusive lock (``.credo.lock``, ``flock``); a second
  run into the same folder stops at once, naming the holder's pid, host and command. The
  kernel releases the lock when the holder dies, ``kill -9`` included, so a stale lock file
  never blocks anyone.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from credo.errors import ConfigError, CorpusError

LOCK_FILE = ".credo.lock"
# Files that mean "this folder already holds work": a corpus, a mix, labels, a filter result.
WORK_FILES = (
    "records.jsonl",
    "records.parquet",
    "labels.jsonl",
    "manifest.json",
    "text.jsonl",
    "openai.jsonl",
    "rejected.jsonl",
    "report.json",
    "flags.jsonl",
)

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the other checks still apply
    fcntl = None  # type: ignore[assignment]


def check_output(
    out: str | Path,
    *,
    option: str = "--out",
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    resumable: bool = False,
    replaceable: Iterable[str] = (),
) -> Path:
    """Refuse an output folder that is unusable, is an input, or holds earlier work.

    ``replaceable`` names files the command may rewrite freely (an audit's own reports).
    """
    out = Path(out)
    resolved = out.expanduser().resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise ConfigError(
            f"{option} {out}: refusing to write into {resolved} - pass a new folder, e.g. {option} out/run1"
        )
    _check_name_lengths(out, option)
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(f"{option} {out}: is a file, not a folder - pass a folder path")
    for given in inputs:
        source = Path(given).expanduser().resolve()
        if source == resolved or source.parent == resolved:  # the input file would sit in --out
            raise ConfigError(
                f"{option} {out}: holds the input {given} - write to another folder "
                "(a command never replaces what it reads, even with --overwrite)"
            )
    # A resumable command (generate, train) continues its own records and manifest, which it
    # checks itself; any other work in the folder (labels, a mix export) is still refused.
    own = set(replaceable) | ({"records.jsonl", "manifest.json"} if resumable else set())
    if resolved.is_dir() and not overwrite:
        present = [name for name in WORK_FILES if name not in own and (resolved / name).exists()]
        if present:
            raise ConfigError(
                f"{option} {out}: already holds {', '.join(present)} from an earlier run - "
                "pass a new folder, or --overwrite to replace it"
            )
    _check_writable(resolved, out, option)
    return out


def _check_name_lengths(out: Path, option: str) -> None:
    for part in out.parts:
        if len(part.encode("utf-8", "surrogateescape")) > 255:
            raise ConfigError(
                f"{option}: the folder name '{part[:40]}...' is {len(part)} characters - "
                "filesystems allow 255 bytes per name; use a shorter one"
            )
    if len(str(out.resolve()).encode("utf-8", "surrogateescape")) > 4000:
        raise ConfigError(
            f"{option}: the path is longer than the filesystem allows - use a shorter one"
        )


def _check_writable(resolved: Path, out: Path, option: str) -> None:
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"{option} {out}: {existing} is a file, so the folder cannot be made - pick another path"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{option} {out}: {existing} is not writable by this user - pick another folder"
        )


def lock_holder(out: str | Path) -> dict | None:
    """What the lock file says about its last holder (it may have finished)."""
    try:
        return json.loads((Path(out) / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@contextmanager
def output_lock(out: str | Path, command: str | None = None) -> Iterator[Path]:
    """Hold the folder's exclusive lock for the block; a held lock is a CorpusError at once."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_FILE
    handle = path.open("a+", encoding="utf-8")
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                holder = lock_holder(out) or {}
                raise CorpusError(
                    f"{out}: another credo run is writing into this folder (pid {holder.get('pid', '?')} on "
                    f"{holder.get('host', '?')}, `{holder.get('command', '?')}`, since {holder.get('since', '?')}) "
                    "- wait for it to finish or pass another --out"
                ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": command or " ".join(["credo", *sys.argv[1:]])[:300],
                    "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
        )
        handle.flush()
        yield out
    finally:
        handle.close()  # closing releases the flock


@contextmanager
def claim_output(
    out: str | Path,
    *,
    option: str = "--out",
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    resumable: bool = False,
    replaceable: Iterable[str] = (),
) -> Iterator[Path]:
    """:func:`check_output`, then hold :func:`output_lock` for the block."""
    check_output(
        out,
        option=option,
        inputs=inputs,
        overwrite=overwrite,
        resumable=resumable,
        replaceable=replaceable,
    )
    with output_lock(out) as folder:
        yield folder
