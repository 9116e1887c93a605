"""The run skeleton: one way for every command to open, fill and close an output folder.

- :func:`check_output` refuses a folder that is a root or the home folder, a file, holds one
  of the command's inputs, or already holds someone else's work (without ``--overwrite``;
  even with it, a command never writes over what it reads);
- :func:`output_lock` holds an exclusive ``flock`` on ``.credo.lock`` while the command runs.
  The file names only pid, host and command name (never the command line, which may hold
  a credential) and is removed at the end; the kernel drops the lock if the holder dies;
- :func:`open_run` does both, writes the manifest at the start (scrubbed of credentials, with
  provenance) and rewrites it as records land, so a run killed at any point resumes;
- :func:`atomic_write` is the package's one atomic writer (a unique temp file beside the
  target, fsync, ``os.replace``); :class:`JsonlAppender` appends whole lines; :func:`replace_dir`
  swaps in a folder built beside its target instead of deleting what the run did not make.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from credo.errors import ConfigError, CorpusError
from credo.provenance import provenance
from credo.redact import scrub, scrub_data

LOCK_FILE = ".credo.lock"
MANIFEST_FILE = "manifest.json"
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
_TEMP_MARK = ".credo-tmp-"  # names of the temp files and folders this module makes
MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while records land

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the other checks still apply
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
A = TypeVar("A", bound="JsonlAppender")


# ---- the one atomic writer ------------------------------------------------------------------


def repair_text(text: str) -> str:
    """Replace lone surrogates (text UTF-8 cannot carry) with U+FFFD; valid pairs are joined."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _finite(value: Any) -> Any:
    """``value`` with every NaN/inf replaced by None and every string repaired (JSON-safe)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return repair_text(value)
    if isinstance(value, dict):
        return {repair_text(str(k)): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(data: Any, **options: Any) -> str:
    """JSON that strict readers accept: never NaN/Infinity, never a lone surrogate."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, **options)
        text.encode("utf-8")
        return text
    except (ValueError, UnicodeEncodeError):
        return json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, **options)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file (mkstemp gives 0600)
_DIR_MODE = 0o777 & ~_umask()  # and mkdir a new folder (mkdtemp gives 0700)


def _temp_beside(path: Path, folder: bool = False) -> tuple[Path, int]:
    """A fresh, unique name in ``path``'s folder (never one a user's file already has), and an
    open descriptor holding its ``flock``: the lock says "a live run is writing this", so
    :func:`remove_stale_temps` only ever removes what a dead run left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name[:80]}{_TEMP_MARK}"

    def make() -> tuple[int, str]:
        if folder:
            return open_folder(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
        return tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)

    return hold_fresh(make)


def open_folder(name: str) -> tuple[int, str]:
    """A read-only descriptor of the folder ``name`` (what ``flock`` holds) and the name."""
    return os.open(name, os.O_RDONLY), name


def hold_fresh(make: Callable[[], tuple[int, str]]) -> tuple[Path, int]:
    """Make a fresh file or folder with ``make`` (descriptor, name) and hold its ``flock``;
    a sweeper may have removed it in the instant before the lock, so then make another."""
    while True:
        handle, name = make()
        if fcntl is None:
            return Path(name), handle
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if os.stat(name).st_ino == os.fstat(handle).st_ino:
                return Path(name), handle
        except FileNotFoundError:
            pass
        os.close(handle)


def _release(handle: int) -> None:
    with suppress(OSError):
        os.close(handle)


def remove_stale_temps(
    folder: str | Path, names: Iterable[str] | None = None, deep: bool = False
) -> int:
    """Remove the hidden temp files and folders (``.NAME.credo-tmp-*``) a killed run left in
    ``folder`` (and its subfolders when ``deep``): only credo's own names, for the targets in
    ``names`` when given, and only those no live run holds locked. Returns the count."""
    wanted = set(names) if names is not None else None
    removed = 0
    folders = [Path(folder)]
    while folders:
        current = folders.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            mark = entry.name.find(_TEMP_MARK)
            if entry.name.startswith(".") and mark > 1:
                target = entry.name[1:mark]
                if (wanted is None or target in wanted) and _remove_if_stale(Path(entry.path)):
                    removed += 1
            elif deep and entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
    return removed


def _remove_if_stale(path: Path) -> bool:
    if path.is_symlink() or fcntl is None:  # no locks to tell a live writer: leave it
        return False
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live run is writing it
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        return not path.exists()
    finally:
        os.close(handle)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temp path beside ``path`` (same suffix) for the block to write; it replaces ``path``
    at once when the block ends. A crash leaves the old file whole; a failure removes the temp
    file and re-raises."""
    path = Path(path)
    tmp, handle = _temp_beside(path)
    try:
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.is_file() else _FILE_MODE)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _release(handle)


def atomic_write(path: str | Path, write: Callable[[IO[str]], T]) -> T:
    """Call ``write`` on a text file that replaces ``path`` whole once it is written and synced."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        result = write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    return result


def write_text_atomic(path: str | Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text))


def write_lines_atomic(path: str | Path, lines: Iterable[str]) -> int:
    """Write each string as one line; returns the count."""

    def write(handle: IO[str]) -> int:
        count = 0
        for line in lines:
            handle.write(line + "\n")
            count += 1
        return count

    return atomic_write(path, write)


def write_json_atomic(path: str | Path, data: Any) -> None:
    """JSON, scrubbed of credentials, written atomically (state and manifest files)."""
    write_text_atomic(path, dumps(scrub_data(data), indent=2) + "\n")


@contextmanager
def building_dir(dest: str | Path) -> Iterator[Path]:
    """A fresh temp folder beside ``dest`` to build into; swapped in by :func:`replace_dir`
    and removed (it is this run's own) if the block fails. Stale ones a killed run left
    beside ``dest`` are removed first."""
    remove_stale_temps(Path(dest).parent, names=[Path(dest).name[:80]])
    tmp, handle = _temp_beside(Path(dest), folder=True)
    try:
        os.chmod(tmp, _DIR_MODE)  # the folder it becomes reads like any other
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _release(handle)


def replace_dir(built: Path, dest: Path) -> None:
    """Put the folder ``built`` at ``dest``. An old ``dest`` (the caller checked it holds only
    this command's earlier output) is first moved aside under a fresh name, so nothing but
    folders this run made or moved is ever deleted."""
    old = None
    if dest.exists():
        old, handle = _temp_beside(dest, folder=True)
        os.replace(dest, old / dest.name)
    os.replace(built, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
        _release(handle)


def repair_tail(path: Path) -> int:
    """Cut a torn final line left by a killed writer; returns the bytes removed."""
    if not path.exists():
        return 0
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        position = size  # walk back to the last newline, in blocks
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            cut = handle.read(step).rfind(b"\n")
            if cut >= 0:
                keep = position - step + cut + 1
                handle.truncate(keep)
                return size - keep
            position -= step
        handle.truncate(0)
        return size


class JsonlAppender:
    """Append JSON lines, one write and flush per line (crash-safe with :func:`repair_tail`)."""

    def __init__(self, path: Path, on_write: Callable[[], None] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        refuse_link(path, "a file of this run")
        repair_tail(path)
        self.path = path
        self._on_write = on_write
        self._handle = path.open("a", encoding="utf-8")

    def encode(self, data: Any) -> str:
        return dumps(data)

    def write(self, data: Any) -> None:
        self._handle.write(self.encode(data) + "\n")
        self._handle.flush()
        if self._on_write is not None:
            self._on_write()

    def close(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def __enter__(self: A) -> A:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- checking a folder before writing -------------------------------------------------------


def refuse_root_or_home(resolved: Path, shown: Path, option: str) -> None:
    """The root, a folder right under it (/etc, /usr, /tmp) and the home folder are never a
    run's own folder - a symlinked --out that resolves to one included."""
    top = Path(resolved.anchor)
    if resolved == top or resolved.parent == top or resolved == Path.home().resolve():
        raise ConfigError(
            f"{option} {shown}: refusing to write into {resolved} - pass a new folder, e.g. {option} out/run1"
        )


def check_output(
    out: str | Path,
    *,
    option: str = "--out",
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    resumable: bool = False,
    replaceable: Iterable[str] = (),
    owns: Iterable[str] = (),
    manifest: str = MANIFEST_FILE,
    command: str | None = None,
    ours: Callable[[Path], bool] | None = None,
    offers_overwrite: bool = True,
) -> Path:
    """Refuse an output folder that is unusable, is or holds an input, or holds others' work.

    ``replaceable`` names files the command may rewrite freely (an audit's own reports); with
    ``ours``, only when ``ours(folder)`` says the folder holds this command's earlier output
    (a user's own ``report.md`` of the same name is never replaced);
    ``owns`` names files it writes that a user may also keep there (``CARD.md``, ``sweep.json``):
    they are refused unless the folder is this command's own run being resumed (its
    ``manifest`` file present; the command then checks the manifest is its own).
    A folder whose lock file a killed run of the same ``command`` left behind is that run's:
    it passed these checks when it began, so a rerun may replace what it wrote.
    ``offers_overwrite`` is False for a command with no ``--overwrite`` (its errors never suggest it).
    """
    out = Path(out)
    resolved = out.expanduser().resolve()
    refuse_root_or_home(resolved, out, option)
    _check_name_lengths(out, option)
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(f"{option} {out}: is a file, not a folder - pass a folder path")
    refuse_link(resolved / LOCK_FILE, "credo's lock file")
    if resumable:  # a resumed run appends to its files in place: never through a link
        for name in (*WORK_FILES, *owns):
            if name != manifest:  # replaced whole (atomically), never written through
                refuse_link(resolved / name, "a file of this run")
    for given in inputs:
        source = Path(given).expanduser().resolve()
        inside = source.is_dir() and source in resolved.parents  # a spec folder's canon/...
        if source == resolved or source.parent == resolved or inside:
            where = "is inside" if inside and source != resolved else "holds"
            raise ConfigError(
                f"{option} {out}: {where} the input {given} - write to another folder "
                "(a command never replaces what it reads, even with --overwrite)"
            )
    # A resumable command continues its own records and manifest, which it checks itself;
    # any other work in the folder (labels, a mix export) is still refused.
    resuming = resumable and (resolved / manifest).is_file()
    if interrupted_by(resolved, command or command_name()):
        _check_writable(resolved, out, option)
        return out
    mine = [name for name in replaceable if (resolved / name).exists()]
    if mine and ours is not None and not overwrite and not ours(resolved):
        raise ConfigError(
            f"{option} {out}: already holds {', '.join(mine)} that {command or command_name()} "
            "did not write - pass a new folder, or move them aside"
        )
    # a resumed run's own records: only a command whose manifest sits beside records.jsonl
    records = {"records.jsonl"} if manifest == MANIFEST_FILE else set()
    own = set(replaceable) | ({*records, manifest} if resumable else set())
    if resuming:
        own |= set(owns)
    if resolved.is_dir() and not overwrite:
        present = [name for name in WORK_FILES if name not in own and (resolved / name).exists()]
        if not resuming:
            present += [name for name in owns if (resolved / name).exists()]
        if present:
            fix = ", or --overwrite to replace it" if offers_overwrite else ""
            raise ConfigError(
                f"{option} {out}: already holds {', '.join(dict.fromkeys(present))} from an earlier "
                f"run or another tool - pass a new folder{fix}"
            )
    _check_writable(resolved, out, option)
    return out


def report_json_with(*keys: str) -> Callable[[Path], bool]:
    """An ``ours`` test for :func:`check_output`: the folder's ``report.json`` is a JSON object
    holding ``keys`` (what the command writes there), so its reports beside it are its own."""

    def ours(folder: Path) -> bool:
        path = folder / "report.json"
        try:
            with path.open("rb") as handle:
                data = json.loads(handle.read(JSON_OURS_MAX))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and all(key in data for key in keys)

    return ours


JSON_OURS_MAX = 256_000_000  # a report.json is a few MB at most


def check_output_file(
    path: str | Path,
    *,
    option: str = "--out",
    inputs: Iterable[str | Path] = (),
    suffixes: tuple[str, ...] = (),
) -> Path:
    """Refuse a file to write that is an input, sits in a root or home folder, or would replace
    a file of another kind (``--out records.jsonl`` for an HTML page)."""
    path = Path(path)
    resolved = path.expanduser().resolve()
    refuse_root_or_home(resolved.parent, path, option)
    _check_name_lengths(path, option)
    if resolved.is_dir():
        raise ConfigError(f"{option} {path}: is a folder - pass a file path")
    if any(Path(given).expanduser().resolve() == resolved for given in inputs):
        raise ConfigError(
            f"{option} {path}: is one of the command's inputs - write to another file "
            "(a command never replaces what it reads)"
        )
    if suffixes and resolved.suffix.lower() not in suffixes:
        raise ConfigError(
            f"{option} {path}: must end in {' or '.join(suffixes)} - it would replace a file of "
            "another kind"
        )
    _check_writable(resolved.parent, path, option)
    return path


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


# ---- the lock -------------------------------------------------------------------------------


def command_name() -> str:
    """``credo <subcommand>`` from the command line, and nothing else from it."""
    first = sys.argv[1] if len(sys.argv) > 1 else ""
    return f"credo {first}" if re.fullmatch(r"[a-z][a-z-]{0,30}", first) else "credo"


def lock_holder(out: str | Path, lock_name: str = LOCK_FILE) -> dict[str, Any] | None:
    """What the lock file says about its holder."""
    try:
        data = json.loads((Path(out) / lock_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def interrupted_by(out: Path, command: str) -> bool:
    """Whether ``out`` holds the lock file of a run of ``command`` that never finished (killed:
    a finished run removes it). A live holder is refused by :func:`output_lock` itself."""
    holder = lock_holder(out)
    return holder is not None and holder.get("command") == command


def _refused(out: Path, lock_name: str) -> CorpusError:
    holder = lock_holder(out, lock_name) or {}
    return CorpusError(
        scrub(
            f"{out}: another credo run is writing into this folder (pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}, `{holder.get('command', '?')}`, since {holder.get('since', '?')}) "
            "- wait for it to finish or pass another --out"
        )
    )


def refuse_link(path: Path, what: str) -> None:
    """A file credo writes in place (a lock, an appended JSONL) must not be a symlink or a
    folder: writing through a link would change a file outside the output folder."""
    if path.is_symlink():
        raise CorpusError(
            f"{path}: a symlink, not {what} - credo never writes through a link (it would change "
            "the file it points to); remove the link, or copy that file here, and rerun"
        )
    if path.is_dir():
        raise CorpusError(f"{path}: a folder, not {what} - move it aside and rerun")


def _open_lock(path: Path) -> IO[str]:
    """The lock file, opened without following a link (checked, then ``O_NOFOLLOW``)."""
    refuse_link(path, "credo's lock file")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        handle = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EISDIR):
            raise
        refuse_link(path, "credo's lock file")  # made in the moment since the check
        raise
    return os.fdopen(handle, "a+", encoding="utf-8")


@contextmanager
def output_lock(
    out: str | Path, command: str | None = None, lock_name: str = LOCK_FILE
) -> Iterator[Path]:
    """Hold the folder's exclusive lock for the block; a held lock is a CorpusError at once.

    ``lock_name`` names another lock in the folder, for a command that writes one file there.
    """
    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / lock_name
    while True:
        handle = _open_lock(path)
        if fcntl is None:
            break
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise _refused(out, lock_name) from None
        try:  # the holder before us may have removed the file we opened: lock the new one
            if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": scrub(command or command_name()),
                    "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
        )
        handle.flush()
        remove_stale_temps(out)  # what a killed run left half-written here
        yield out
    finally:
        path.unlink(missing_ok=True)  # while still held: nobody can hold the old inode after
        handle.close()  # closing releases the flock
        if created:  # a run refused before writing anything leaves no empty folder behind
            with suppress(OSError):
                out.rmdir()


@contextmanager
def output_file_lock(path: str | Path, command: str) -> Iterator[Path]:
    """Hold the lock of one output that is not a run folder (a page, a prompt set, a new spec
    folder): ``.NAME.credo.lock`` beside it, so a second run writing ``path`` refuses."""
    path = Path(path)
    with output_lock(path.parent, command, lock_name=f".{path.name[:200]}.credo.lock"):
        yield path


@contextmanager
def claim_output(out: str | Path, *, command: str | None = None, **checks: Any) -> Iterator[Path]:
    """:func:`check_output` (``checks`` are its keywords), then hold :func:`output_lock` for
    the block."""
    check_output(out, command=command, **checks)
    with output_lock(out, command) as folder:
        yield folder


# ---- the run --------------------------------------------------------------------------------


@dataclass
class Run:
    """An open output folder: its manifest, rewritten (scrubbed) at start, as records land, and
    at the end; the count of records written this run."""

    folder: Path
    command: str
    manifest_file: str = MANIFEST_FILE
    manifest: dict[str, Any] = field(default_factory=dict)
    written: int = 0
    _saved_at: float = 0.0

    def save(self, manifest: dict[str, Any] | None = None) -> None:
        """Write the manifest now (``manifest`` replaces the one held, when given)."""
        if manifest is not None:
            self.manifest = manifest
        if "provenance" not in self.manifest:  # (setdefault would run git every save)
            self.manifest["provenance"] = provenance()
        write_json_atomic(self.folder / self.manifest_file, self.manifest)
        self._saved_at = time.monotonic()

    def landed(self, n: int = 1) -> None:
        """``n`` records were appended: count them, and rewrite the manifest now and then."""
        self.written += n
        if time.monotonic() - self._saved_at >= MANIFEST_EVERY:
            self.manifest["progress"] = {
                "written_this_run": self.written,
                "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            self.save()

    def appender(self, name: str, cls: type[JsonlAppender] = JsonlAppender) -> JsonlAppender:
        """Append to ``name`` in the folder; each line counts as a landed record."""
        return cls(self.folder / name, on_write=self.landed)


def _refuse_other_kind(path: Path, kind: Any, option: str) -> None:
    """--overwrite replaces an earlier run of the same kind; another command's work (an eval
    over a corpus would leave its records beside an eval's manifest) is still refused."""
    try:
        theirs = json.loads(path.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return  # none, or damaged: the command's own checks name it
    if isinstance(kind, str) and isinstance(theirs, str) and theirs != kind:
        raise ConfigError(
            f"{option} {path.parent}: holds a credo {theirs} run - --overwrite replaces only an "
            f"earlier {kind} run; pass a new folder"
        )


@contextmanager
def open_run(
    out: str | Path,
    *,
    command: str,
    manifest: dict[str, Any] | None = None,
    manifest_file: str = MANIFEST_FILE,
    option: str = "--out",
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    resumable: bool = False,
    owns: Iterable[str] = (),
    check: Callable[[Path], Any] | None = None,
) -> Iterator[Run]:
    """Check and lock ``out``, run ``check(out)`` under the lock (a resume's identity check),
    write ``manifest`` at once, and hand the :class:`Run` to the block."""
    if overwrite and manifest is not None:
        _refuse_other_kind(Path(out) / manifest_file, manifest.get("kind"), option)
    with claim_output(
        out,
        option=option,
        inputs=inputs,
        overwrite=overwrite,
        resumable=resumable,
        owns=owns,
        manifest=manifest_file,
        command=f"credo {command}",
    ) as folder:
        remove_stale_temps(folder, deep=True)  # in its subfolders too (a sweep's cells, corpora)
        if check is not None:
            check(folder)
        run = Run(folder, command, manifest_file)
        if manifest is not None:
            run.save(manifest)
        yield run
