"""A hashed n-gram index of a reference corpus that scales past memory.

The reference is streamed once; every ``shard_bytes`` of text becomes one shard on disk:
three sorted, de-duplicated numpy arrays - word hashes and word-pair hashes (uint32, used
only to pick candidate shards for the exact verification pass) and ``n``-gram hashes
(uint64, used for overlap fractions). Memory is bounded by one shard's hashes. Lookups are
``np.searchsorted`` over memory-mapped arrays. An index is cached under
``$CREDO_HOME/leakage/index/<content hash>``; a path+size+mtime fingerprint finds it without
re-hashing the files, and a stale or damaged index is rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from credo import ngrams as tok
from credo.errors import ConfigError, CorpusError, CredoError, missing_dependency
from credo.hashing import content_hash, file_hash
from credo.leakage.readers import Document, Source, iter_documents
from credo.paths import credo_home
from credo.raycluster import connect
from credo.runs import building_dir, replace_dir, write_text_atomic

INDEX_VERSION = 1
KINDS = {"uni": np.uint32, "bi": np.uint32, "gram": np.uint64}
POPULATE_LIMIT = 8 << 30  # pre-fault indexes up to this size; larger ones map lazily
Log = Callable[[str], None]


@dataclass(frozen=True)
class IndexConfig:
    n: int = 13
    shard_bytes: int = 128 << 20
    block_bytes: int = 1 << 20
    text_field: str = "text"

    def __str__(self) -> str:  # names the folder, so an index carries its parameters
        field_name = re.sub(r"[^A-Za-z0-9_-]", "_", self.text_field)[:40]
        return f"{self.n}g_{self.shard_bytes >> 20}m_{field_name}"


@dataclass
class ShardStats:
    docs: list[list[int]] = field(default_factory=list)  # [source, first number, last number]
    bytes: int = 0
    tokens: int = 0
    files: dict[str, int] = field(default_factory=dict)


def _high32(hashes: np.ndarray) -> np.ndarray:
    return (hashes >> np.uint64(32)).astype(np.uint32)


def _dedupe_sorted(values: np.ndarray) -> np.ndarray:
    if len(values) < 2:
        return values
    keep = np.empty(len(values), bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    # Most 13-grams are unique within a shard: skip the shard-sized copy (and its page faults).
    return values if keep.all() else values[keep]


def _sorted_unique(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    # np.unique is slow on numpy 2.x for large arrays; sort + neighbour compare is not.
    values = np.concatenate(parts) if parts else np.zeros(0, dtype)
    values.sort()
    return _dedupe_sorted(values)


def _block_set(hashes: np.ndarray) -> np.ndarray:
    """High 32 bits, sorted and de-duplicated per block: word sets shrink ~10x before the shard sort."""
    values = _high32(hashes)
    values.sort()
    return _dedupe_sorted(values)


class _ShardWriter:
    """Accumulates one shard's hashes and writes it as sorted arrays."""

    def __init__(self, folder: Path, number: int, prefix: str = "") -> None:
        self.folder, self.number, self.prefix = folder, number, prefix
        self.parts: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
        self.stats = ShardStats()

    def add_block(self, docs: list[Document], config: IndexConfig) -> None:
        # Normalising is byte-for-byte and keeps the joining space a separator, so the joined
        # buffer is normalised once: one copy fewer, same words at the same offsets.
        hashes, starts = tok.token_hashes(tok.normalise(b" ".join(d.text for d in docs)))
        groups = None  # one document (most blocks of plain text): no n-gram can span two
        if len(docs) > 1:
            offsets = np.cumsum([0] + [len(d.text) + 1 for d in docs[:-1]])
            groups = np.searchsorted(offsets, starts, side="right")
        self.parts["uni"].append(_block_set(hashes))
        self.parts["bi"].append(_block_set(tok.ngram_hashes(hashes, 2, groups)))
        self.parts["gram"].append(tok.ngram_hashes(hashes, config.n, groups))
        self.stats.tokens += len(hashes)
        self.stats.bytes += sum(len(d.text) for d in docs)
        for doc in docs:
            last = self.stats.docs[-1] if self.stats.docs else None
            if last and last[0] == doc.source:
                last[2] = doc.number
            else:
                self.stats.docs.append([doc.source, doc.number, doc.number])

    def write(self) -> ShardStats:
        for kind, dtype in KINDS.items():
            name = f"{kind}-{self.prefix}{self.number:05d}.npy"
            np.save(self.folder / name, _sorted_unique(self.parts[kind], dtype))
            self.stats.files[name] = (self.folder / name).stat().st_size
            self.parts[kind] = []
        return self.stats


def _blocks(documents: Iterator[Document], block_bytes: int) -> Iterator[list[Document]]:
    block: list[Document] = []
    size = 0
    for doc in documents:
        block.append(doc)
        size += len(doc.text)
        if size >= block_bytes:
            yield block
            block, size = [], 0
    if block:
        yield block


def _build_shards(
    sources: list[Source],
    first: int,
    folder: Path,
    config: IndexConfig,
    prefix: str = "",
    log: Log | None = None,
) -> list[dict]:
    """Index ``sources`` (numbered from ``first``) into shards named with ``prefix``."""
    _tune_memory()
    shards: list[dict] = []
    writer = _ShardWriter(folder, 0, prefix)
    for block in _blocks(iter_documents(sources, config.text_field, first), config.block_bytes):
        writer.add_block(block, config)
        if writer.stats.bytes >= config.shard_bytes:
            shards.append(asdict(writer.write()))
            if log:
                log(f"indexed {sum(s['bytes'] for s in shards) / 1e6:.0f} MB")
            writer = _ShardWriter(folder, len(shards), prefix)
    if writer.stats.bytes or not shards:
        shards.append(asdict(writer.write()))
    return shards


def _split(sources: list[Source], parts: int) -> list[tuple[int, list[Source]]]:
    """Contiguous groups of sources of about equal size on disk: (first index, group)."""
    sizes = [max(s.path.stat().st_size, 1) for s in sources]
    groups: list[tuple[int, list[Source]]] = []
    current: list[Source] = []
    total, start, done = sum(sizes), 0, 0
    for index, (source, size) in enumerate(zip(sources, sizes, strict=True)):
        current.append(source)
        done += size
        if done >= total * (len(groups) + 1) / parts and len(groups) < parts - 1:
            groups.append((start, current))
            current, start = [], index + 1
    if current:
        groups.append((start, current))
    return groups


ENGINES = ("process", "ray")


def build_index(
    sources: list[Source],
    folder: Path,
    config: IndexConfig,
    log: Log | None = None,
    workers: int = 1,
    engine: str = "process",
    address: str | None = None,
) -> dict:
    """Stream ``sources`` into shards under ``folder``; returns the index metadata.

    With ``workers`` > 1, contiguous groups of files are indexed by separate processes (one
    file is never split); the shards, and so every answer, are the same set either way.
    ``engine="ray"`` runs the groups as Ray tasks instead (on the cluster at ``address``, or a
    local one; ``workers`` 1 means one group per CPU of the cluster); ``folder`` must then be
    on a file system every node writes to.
    """
    if engine not in ENGINES:
        raise ConfigError(f"--engine '{engine}' is not known - use one of {', '.join(ENGINES)}")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if engine == "ray":
        shards = _build_with_ray(
            sources, folder, config=config, workers=workers, address=address, log=log
        )
    else:
        shards = _build_with_processes(sources, folder, config=config, workers=workers, log=log)
    tokens = sum(s["tokens"] for s in shards)
    if tokens == 0:
        names = ", ".join(str(s.path) for s in sources)
        raise CorpusError(f"{names}: the reference holds no text - pass files with words in them")
    meta = {
        "version": INDEX_VERSION,
        "config": asdict(config),
        "sources": [_stat(s.path) for s in sources],
        "shards": shards,
        "bytes": sum(s["bytes"] for s in shards),
        "tokens": tokens,
        "build_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": _peak_rss_mb(),  # of the building process so far: the build's own peak
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def _build_with_ray(
    sources: list[Source],
    folder: Path,
    config: IndexConfig,
    workers: int,
    address: str | None,
    log: Log | None,
) -> list[dict]:
    try:
        import ray
    except ImportError as exc:
        raise missing_dependency("ray", "--engine ray") from exc
    started_here = not ray.is_initialized()
    connect(address)  # a dead address fails in seconds, naming it
    try:
        parts = workers if workers > 1 else int(ray.cluster_resources().get("CPU", 1))
        groups = _split(sources, max(1, min(parts, len(sources))))
        _say(log, f"indexing {len(groups)} group(s) of reference files as Ray tasks")
        task = ray.remote(num_cpus=1)(_build_shards)
        # The same groups and shard prefixes as the process path, so the same shard files.
        refs = [
            task.remote(
                group, first, folder=folder, config=config, prefix=_prefix(number, len(groups))
            )
            for number, (first, group) in enumerate(groups)
        ]
        try:
            return [shard for result in ray.get(refs) for shard in result]
        except (
            ray.exceptions.RayTaskError
        ) as exc:  # a bad file: its one-line error, not Ray's trace
            if isinstance(exc.cause, CredoError):
                raise exc.cause from None
            raise
    finally:
        if started_here:
            ray.shutdown()


def _prefix(number: int, groups: int) -> str:
    return "" if groups == 1 else f"{number:03d}."


def _build_with_processes(
    sources: list[Source], folder: Path, config: IndexConfig, workers: int, log: Log | None
) -> list[dict]:
    groups = _split(sources, max(1, min(workers, len(sources))))
    if len(groups) == 1:
        return _build_shards(sources, 0, folder=folder, config=config, prefix="", log=log)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(groups)) as pool:
        futures = [
            pool.submit(
                _build_shards,
                group,
                first,
                folder=folder,
                config=config,
                prefix=_prefix(number, len(groups)),
            )
            for number, (first, group) in enumerate(groups)
        ]
        return [shard for future in futures for shard in future.result()]


def _tune_memory() -> None:
    """Keep freed per-block numpy buffers in the heap instead of returning them to the OS.

    Indexing allocates and frees many same-sized arrays per block. By default glibc maps
    each large one afresh, and on these VMs first-touch page faults then cost more than the
    hashing itself (token hashing ran 2x slower); numpy's transparent-huge-page advice
    makes faults dearer still. Both settings only change where memory comes from.
    """
    with contextlib.suppress(AttributeError):
        np._core.multiarray._set_madvise_hugepage(False)  # type: ignore[attr-defined]  # private, not in numpy's stubs
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        # Per-block arrays (a few MB) come from the heap and are reused; shard-sized arrays
        # (over 32 MiB) stay separate maps, so the heap cannot fragment and grow per shard.
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MiB of freed heap
    except (OSError, AttributeError):  # not glibc: defaults are only slower
        pass


def _peak_rss_mb() -> int | None:
    """Peak RSS of this process or any finished worker (the largest single process)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return None
    peaks = [
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    ]
    return round(max(peaks) / 1024)


def _stat(path: Path) -> dict:
    info = path.stat()
    return {"path": str(path.resolve()), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


class ReferenceIndex:
    """Memory-mapped shards of one built index."""

    def __init__(self, folder: Path, meta: dict, arrays: dict[str, list[np.ndarray]]) -> None:
        self.folder, self.meta, self.arrays = folder, meta, arrays
        self.reused = False  # set by open_index: True only when an existing index was loaded

    @property
    def documents(self) -> int:
        """Documents indexed (each shard records runs of consecutive document numbers)."""
        return sum(
            last - first + 1
            for shard in self.meta["shards"]
            for _, first, last in shard.get("docs", [])
        )

    @property
    def shard_count(self) -> int:
        return len(self.meta["shards"])

    def shards_containing(self, hashes: np.ndarray, kind: str) -> np.ndarray:
        """Bool matrix [shard, query]: which shards may hold each word / word pair hash."""
        queries = _high32(np.asarray(hashes, np.uint64)) if kind != "gram" else hashes
        return np.array([_member(a, queries) for a in self.arrays[kind]]).reshape(-1, len(queries))

    def contains(self, grams: np.ndarray) -> np.ndarray:
        """Bool per n-gram hash: present in any shard."""
        found = np.zeros(len(grams), bool)
        for array in self.arrays["gram"]:
            found |= _member(array, grams)
        return found

    def size_bytes(self) -> int:
        return sum(sum(s["files"].values()) for s in self.meta["shards"])


def _member(array: np.ndarray, queries: np.ndarray) -> np.ndarray:
    if len(array) == 0 or len(queries) == 0:
        return np.zeros(len(queries), bool)
    # Sorted queries walk the memory-mapped array front to back, touching each page once.
    order = np.argsort(queries, kind="stable") if len(queries) > 1 else np.zeros(1, np.intp)
    ordered = queries[order]
    positions = np.minimum(np.searchsorted(array, ordered), len(array) - 1)
    found = np.empty(len(queries), bool)
    found[order] = array[positions] == ordered
    return found


def _map_array(path: Path, populate: bool) -> np.ndarray:
    """A read-only memory map of a 1-D ``.npy``, pre-faulted when ``populate``.

    Binary searches touch ~20 scattered pages per query; on a lazily mapped file each is a
    page fault, which made lookups 50x slower than on a pre-faulted map (MAP_POPULATE).
    """
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        reader = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = reader(handle)
        offset = handle.tell()
        if len(shape) != 1 or shape[0] == 0:
            return np.zeros(shape, dtype)
        flags = mmap.MAP_SHARED | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
        mapped = mmap.mmap(handle.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
    if mapped.size() != offset + shape[0] * dtype.itemsize:
        raise ValueError(f"{path}: size does not match its header")
    return np.frombuffer(mapped, dtype, shape[0], offset)


def load_index(folder: Path) -> ReferenceIndex | None:
    """The index in ``folder``, or None when it is missing, incomplete or damaged."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("version") != INDEX_VERSION:
            return None
        arrays: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
        total = sum(size for shard in meta["shards"] for size in shard["files"].values())
        for shard in meta["shards"]:
            for name, size in shard["files"].items():
                path = folder / name
                if path.stat().st_size != size:
                    return None
                array = _map_array(path, populate=total <= POPULATE_LIMIT)
                kind = name.split("-")[0]
                if array.dtype != KINDS[kind] or array.ndim != 1:
                    return None
                arrays[kind].append(array)
        return ReferenceIndex(folder, meta, arrays)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_index(
    sources: list[Source],
    config: IndexConfig | None = None,
    *,
    rebuild: bool = False,
    workers: int = 1,
    engine: str = "process",
    address: str | None = None,
    log: Log | None = None,
) -> ReferenceIndex:
    """The cached index of ``sources``, built (or rebuilt when stale or damaged) as needed."""
    config = config or IndexConfig()
    root = credo_home() / "leakage"
    stats = [_stat(s.path) for s in sources]
    fingerprint = content_hash({"stat": stats, "config": asdict(config), "v": INDEX_VERSION})
    pointer = root / "fingerprints" / (fingerprint.removeprefix("b2:") + ".json")
    key = _read_pointer(pointer)
    if key is None:
        key = content_hash(
            {"files": _file_hashes(sources, workers), "config": asdict(config), "v": INDEX_VERSION}
        ).removeprefix("b2:")
    folder = root / "index" / f"{key}_{config}"
    index = None if rebuild else load_index(folder)
    if index is None:
        if folder.exists() and not rebuild:
            _say(log, f"index at {folder} is incomplete or damaged - rebuilding it")
        index = _build_atomically(
            sources, folder, config=config, log=log, workers=workers, engine=engine, address=address
        )
    else:
        index.reused = True
        _say(log, f"reusing the cached index at {folder} (--rebuild to build it again)")
    write_text_atomic(pointer, json.dumps({"index": key}))
    return index


def _file_hashes(sources: list[Source], workers: int) -> list[str]:
    """Content hashes of the reference files, ``workers`` at a time (hashlib frees the GIL)."""
    paths = [str(s.path) for s in sources]
    if workers <= 1 or len(paths) == 1:
        return [file_hash(path) for path in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(file_hash, paths))  # in order: the key must not depend on timing


def _read_pointer(pointer: Path) -> str | None:
    try:
        return str(json.loads(pointer.read_text(encoding="utf-8"))["index"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _build_atomically(
    sources: list[Source],
    folder: Path,
    config: IndexConfig,
    log: Log | None,
    workers: int,
    engine: str = "process",
    address: str | None = None,
) -> ReferenceIndex:
    megabytes = sum(s.path.stat().st_size for s in sources) / 1e6
    _say(
        log,
        f"building the index of {len(sources)} reference file(s), {megabytes:.0f} MB on disk, into {folder} "
        "(kept for later runs)",
    )
    with building_dir(folder) as partial:  # a fresh folder of this run's own, removed on failure
        build_index(
            sources,
            partial,
            config=config,
            log=log,
            workers=workers,
            engine=engine,
            address=address,
        )
        replace_dir(partial, folder)
    index = load_index(folder)
    if index is None:  # pragma: no cover - a just-built index that cannot load is a bug
        raise CorpusError(f"{folder}: freshly built index does not load - remove it and retry")
    return index


def _say(log: Log | None, message: str) -> None:
    (log or (lambda m: print(m, file=sys.stderr)))(message)
